"""Great Expectations suites as code, one module per dataset, and their runner."""
