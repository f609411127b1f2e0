"""Routers by area; each route is a few lines over one service call."""
