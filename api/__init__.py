"""The HTTP and process edge: settings, app factory, GraphQL view, auth, GraphiQL assets, CLI."""
