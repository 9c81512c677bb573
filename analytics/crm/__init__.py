"""The CRM figures (DESIGN's sales metrics), one small module per job:

scope        who and what a figure covers (regions, countries, currency), snapshot dates
attainment   booked revenue / quota (EUR), per rep, team, region and in total
pipeline     the pipeline / forecast roll-up as at a weekly snapshot, and coverage
deals        deals now: win rate, cycle, stage conversion, funnel, stuck deals, velocity
changes      how the pipeline due in a quarter moved between two snapshots
forecast     a quarter's forecast (the roll-up) and past commit accuracy
activity     activities against revenue booked and open pipeline
rep          one rep's quarter
stages       the funnel stages, forecast categories and deal statuses
"""
