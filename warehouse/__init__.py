"""The application database: schema, migrations, engine and sessions, upsert helpers."""
