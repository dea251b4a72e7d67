"""gemroll's command line for users (`gemroll`): development tokens, consent, folder uploads,
suggestions and actions, over the services' HTTP APIs. Standalone: it needs neither the
services' code nor the development tools.

    client     GemrollClient, ApiError, ServiceUrls: the HTTP APIs
    tokens     dev_token, user_key_of: development tokens and the user's opaque key
    discovery  where the services are: the environment, else the local stack's stack.env
    upload     a resumable, concurrent folder upload that skips duplicates
    cli        the `gemroll` command
"""
