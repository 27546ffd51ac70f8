module github.com/ticketing/ticketing/auth

go 1.24

require (
	github.com/google/uuid v1.6.0
	github.com/ticketing/ticketing/pkg v0.0.0-00010101000000-000000000000
)

replace github.com/ticketing/ticketing/pkg => ../pkg
