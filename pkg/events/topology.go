package events

import (
	amqp "github.com/rabbitmq/amqp091-go"
)

// MaxDeliveries is how often a message is delivered to a service before it
// is dead-lettered: the first try and four retries with backoff.
const MaxDeliveries = 5

// declareExchanges declares the event and dead-letter exchanges; it is
// idempotent and runs on every (re)connect of a publisher or consumer.
func declareExchanges(ch *amqp.Channel) error {
	if err := ch.ExchangeDeclare(Exchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		return err
	}
	return ch.ExchangeDeclare(DeadLetterExchange, amqp.ExchangeDirect, true, false, false, false, nil)
}

// declareQueue declares a service's quorum queue, bound to the events it
// consumes, and its dead-letter queue; idempotent.
func declareQueue(ch *amqp.Channel, service string, names []Name) error {
	if err := declareExchanges(ch); err != nil {
		return err
	}
	queue, dead := QueueName(service), DeadLetterQueueName(service)
	if _, err := ch.QueueDeclare(dead, true, false, false, false, amqp.Table{
		amqp.QueueTypeArg: amqp.QueueTypeQuorum,
	}); err != nil {
		return err
	}
	if err := ch.QueueBind(dead, queue, DeadLetterExchange, false, nil); err != nil {
		return err
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{
		amqp.QueueTypeArg:           amqp.QueueTypeQuorum,
		"x-delivery-limit":          MaxDeliveries,
		"x-dead-letter-exchange":    DeadLetterExchange,
		"x-dead-letter-routing-key": queue,
	}); err != nil {
		return err
	}
	for _, n := range names {
		if err := ch.QueueBind(queue, string(n), Exchange, false, nil); err != nil {
			return err
		}
	}
	return nil
}
