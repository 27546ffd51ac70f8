module github.com/ticketing/ticketing/orders

go 1.24

replace github.com/ticketing/ticketing/pkg => ../pkg
