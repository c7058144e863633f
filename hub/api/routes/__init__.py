"""The API's resources, one module each, each exposing a `router` (see `hub.api.app`)."""
