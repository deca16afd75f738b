"""Versioned feature views, the point-in-time builder, the offline store and online lookup."""
