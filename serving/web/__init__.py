"""The web app: server-rendered pages (Jinja2 templates in serving/templates), htmx for partial
updates, Vega-Lite charts built with Altair, every asset vendored under serving/static."""
