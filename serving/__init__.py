"""The FastAPI service: app factory, settings, dependencies and one router per resource."""
