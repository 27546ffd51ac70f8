module github.com/ticketing/ticketing/tickets

go 1.24

replace github.com/ticketing/ticketing/pkg => ../pkg
