"""The CRM figures: quota attainment, pipeline and forecast, pipeline changes, activity."""
