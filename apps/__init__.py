"""The small apps the service hosts, each app's domain in its own package: rules, queries and
transactions (`apps.recipes`, `apps.voting`). HTTP lives in serving/, which imports these."""
