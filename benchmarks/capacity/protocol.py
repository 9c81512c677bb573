"""A light client that speaks Streamlit's own websocket protocol (streamlit.proto).

What a browser tab does, minus drawing: connect to /_stcore/stream with the "streamlit"
subprotocol, send a BackMsg.rerun_script carrying a ClientState (query string, page, widget
states), read ForwardMsgs until script_finished says the run is over. Widgets are found in
the deltas the server sends (each widget's id ends with its user key), so an interaction
sends the new value of one widget, as the browser does; widgets it does not send keep their
value on the server (SessionState keeps the previous run's state).

Every message is parsed (ForwardMsg.ParseFromString), so a client costs some CPU of its own
— far less than a browser, which also lays out and draws.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

WIDGET_TYPES = frozenset(
    {"selectbox", "radio", "multiselect", "button_group", "plotly_chart", "button", "text_input"}
)
# Statuses that end a run the user waits for; FINISHED_EARLY_FOR_RERUN is followed by the
# run st.rerun() asked for.
DONE = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "ok",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "ok",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error",
}


class ProtocolError(RuntimeError):
    """A run that did not finish well: an exception on screen, a compile error, a closed
    connection or a timeout."""


def user_key(element_id: str) -> str | None:
    """The user key at the end of a widget id ("$$ID-<hex>-<key>"), None for keyless ones."""
    if not element_id.startswith("$$ID-"):
        return None
    key = element_id.split("-", 2)[2]
    return None if key == "None" else key


@dataclass
class Widget:
    kind: str  # the Element oneof: selectbox, radio, button_group, …
    proto: Any
    fragment_id: str = ""  # the st.fragment it was drawn in, "" outside any

    @property
    def id(self) -> str:
        return self.proto.id

    def options(self) -> list[str]:
        if self.kind == "button_group":
            return [option.content for option in self.proto.options]
        return list(self.proto.options)


@dataclass
class RunResult:
    latency_s: float
    bytes_received: int
    messages: int


@dataclass
class Session:
    """One browser tab's worth of protocol: a connection, its page and its widgets."""

    ws_url: str
    timeout_s: float = 120.0
    connection: ClientConnection | None = None
    query_string: str = ""
    page_hash: str = ""
    pages: dict[str, str] = field(default_factory=dict)  # url_pathname -> page_script_hash
    widgets: dict[str, Widget] = field(default_factory=dict)  # user key -> widget
    turns: dict[str, int] = field(default_factory=dict)  # how often each key was changed
    # The metrics the last run drew, label -> value as shown (st.metric's body).
    metrics: dict[str, str] = field(default_factory=dict)
    # Cookies set on the handshake, sent again on the next connect, as a browser keeps
    # them: behind `python -m serve` its worker cookie keeps a reopened link on its worker.
    cookies: dict[str, str] = field(default_factory=dict)

    async def open(self, page: str, query_string: str) -> RunResult:
        """Connect and run `page` ("" for the default) as a link with `query_string` would."""
        await self.close()
        # max_size None: a page's deltas (tables, figures) can exceed the 1 MiB default.
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        self.connection = await connect(
            self.ws_url,
            subprotocols=["streamlit"],
            max_size=None,
            open_timeout=self.timeout_s,
            additional_headers={"Cookie": cookie} if cookie else None,
        )
        for header in self.connection.response.headers.get_all("Set-Cookie"):
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        self.query_string, self.page_hash = query_string, ""
        return await self._rerun(page_name=page)

    async def navigate(self, page: str) -> RunResult:
        """Switch page inside the session, as a click in the sidebar's navigation does."""
        self.page_hash = self.pages[page]
        self.query_string = ""
        return await self._rerun()

    async def set_choice(self, key: str, start: int = 1) -> RunResult:
        """Pick the next option of a single-choice widget (selectbox, radio, segmented
        control): option start, start+1, … of its list on successive calls, wrapping."""
        widget = self.widget(key)
        options = widget.options()
        turn = self.turns.get(key, 0)
        self.turns[key] = turn + 1
        choice = options[(start + turn) % len(options)]
        state = WidgetState(id=widget.id)
        if widget.kind in {"button_group", "multiselect"}:
            state.string_array_value.data.append(choice)
        else:
            state.string_value = choice
        return await self._rerun([state], fragment_id=widget.fragment_id)

    async def set_text(self, key: str, text: str) -> RunResult:
        """Type `text` into a text input and leave it (the browser sends it on blur)."""
        widget = self.widget(key)
        state = WidgetState(id=widget.id, string_value=text)
        return await self._rerun([state], fragment_id=widget.fragment_id)

    async def click(self, key: str) -> RunResult:
        widget = self.widget(key)
        state = WidgetState(id=widget.id, trigger_value=True)
        return await self._rerun([state], fragment_id=widget.fragment_id)

    async def select_point(self, key_prefix: str, point: int = -1) -> RunResult:
        """Click a bar of a plotly chart with on_select: the selection event of the point at
        position `point` of the first trace, with its customdata, as plotly.js reports it."""
        key = next(k for k in self.widgets if k.startswith(key_prefix))
        widget = self.widgets[key]
        trace = json.loads(widget.proto.spec)["data"][0]
        customdata = trace["customdata"]
        index = point % len(customdata)
        selection = {
            "selection": {
                "points": [{"point_index": index, "customdata": customdata[index]}],
                "point_indices": [index],
                "box": [],
                "lasso": [],
            }
        }
        state = WidgetState(id=widget.id, string_value=json.dumps(selection))
        return await self._rerun([state], fragment_id=widget.fragment_id)

    def widget(self, key: str) -> Widget:
        try:
            return self.widgets[key]
        except KeyError:
            raise ProtocolError(
                f"no widget with key {key!r} on this page (it has {', '.join(sorted(self.widgets))})"
            ) from None

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
            self.connection = None

    async def _rerun(
        self, widget_states: list[WidgetState] = (), page_name: str = "", fragment_id: str = ""
    ) -> RunResult:
        """One run; with `fragment_id` only that fragment reruns, as a browser asks when a
        widget inside an st.fragment changes, and the widgets outside it stay as they were."""
        assert self.connection is not None, "open() first"
        msg = BackMsg()
        client_state = msg.rerun_script
        client_state.query_string = self.query_string
        client_state.page_script_hash = self.page_hash
        client_state.page_name = page_name
        client_state.widget_states.widgets.extend(widget_states)
        client_state.fragment_id = fragment_id
        started = time.perf_counter()
        await self.connection.send(msg.SerializeToString())
        received = messages = 0
        deadline = started + self.timeout_s
        widgets: dict[str, Widget] = {}
        metrics: dict[str, str] = {}
        problem = None
        while True:
            try:
                data = await asyncio.wait_for(
                    self.connection.recv(), timeout=max(0.001, deadline - time.perf_counter())
                )
            except TimeoutError:
                raise ProtocolError(f"no script_finished within {self.timeout_s:.0f} s") from None
            received += len(data)
            messages += 1
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":  # a run starts (st.rerun starts a second one)
                widgets = dict(self.widgets) if fragment_id else {}
                metrics = dict(self.metrics) if fragment_id else {}
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                element_kind = element.WhichOneof("type")
                if element_kind in WIDGET_TYPES:
                    proto = getattr(element, element_kind)
                    key = user_key(proto.id)
                    if key:
                        widgets[key] = Widget(element_kind, proto, fwd.delta.fragment_id)
                elif element_kind == "metric":
                    metrics[element.metric.label] = element.metric.body
                elif element_kind == "exception":
                    problem = f"exception on screen: {element.exception.type}"
            elif kind == "page_info_changed":
                self.query_string = fwd.page_info_changed.query_string
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
                self.page_hash = fwd.navigation.page_script_hash
            elif kind == "page_not_found":
                problem = f"page not found: {fwd.page_not_found.page_name}"
            elif kind == "script_finished" and fwd.script_finished in DONE:
                latency = time.perf_counter() - started
                if DONE[fwd.script_finished] != "ok":
                    problem = DONE[fwd.script_finished]
                break
        self.widgets, self.metrics = widgets, metrics
        if problem:
            raise ProtocolError(problem)
        return RunResult(latency, received, messages)


# An interaction: (page, kind, what it does). The page is the one it runs on, as shown in
# the report; "open_link" connects afresh, so it also pays for a new session.
Step = tuple[str, str, Callable[[Session], Any]]

LINK_QUERY = "period=l12m&currency=USD&basis=constant"

# url_pathname of each page as st.navigation names it; the default page is served at "".
PAGES = {"overview": "", "markets": "markets", "review": "review"}
PAGES |= {"pricing": "pricing", "team": "team", "data": "data"}


OPEN_LINK: Step = ("overview", "open_link", lambda s: s.open("", LINK_QUERY))


def cycle_steps() -> list[Step]:
    """A round through every page and every kind of interaction, in the order a user
    could click them: each step starts where the previous one left the session, and the
    round ends on a page the first step navigates away from."""
    return [
        ("overview", "navigate", lambda s: s.navigate(PAGES["overview"])),
        ("overview", "sidebar_filter", lambda s: s.set_choice("f_currency", start=0)),
        ("overview", "page_widget", lambda s: s.set_choice("overview_map_measure")),
        ("markets", "navigate", lambda s: s.navigate("markets")),
        ("markets", "drill", lambda s: s.select_point("markets_bars_region_")),
        ("markets", "drill_up", lambda s: s.click("crumb_0")),
        ("markets", "page_widget", lambda s: s.set_choice("m_section")),
        ("markets", "sidebar_filter", lambda s: s.set_choice("f_basis")),
        ("review", "navigate", lambda s: s.navigate("review")),
        ("review", "page_widget", lambda s: s.set_choice("r_vs")),
        ("review", "sidebar_filter", lambda s: s.set_choice("f_currency", start=0)),
        ("team", "navigate", lambda s: s.navigate("team")),
        ("team", "switch_view", lambda s: s.set_choice("t_view")),
        ("team", "sidebar_filter", lambda s: s.set_choice("f_basis")),
        ("pricing", "navigate", lambda s: s.navigate("pricing")),
        ("pricing", "page_widget", lambda s: s.set_choice("p_mode")),
        ("pricing", "sidebar_filter", lambda s: s.set_choice("f_currency", start=0)),
        ("data", "navigate", lambda s: s.navigate("data")),
    ]
