// Package events is the event backbone every service shares: versioned
// event names, the envelope and typed payloads, a publisher with confirms and
// mandatory routing, a consumer with bounded retries and a dead-letter queue,
// the topology they need, and the transactional outbox relay.
package events

// Name is an event's wire name. It carries the schema version and is also
// the routing key. A breaking change to a payload is a new Name, published
// beside the old one for a while.
//
// WARNING: these values are a contract with every consumer's bindings and
// every stored outbox; never rename one.
type Name string

// The events of docs/architecture.md ("Events").
const (
	TicketCreated       Name = "ticket.created.v1"
	TicketUpdated       Name = "ticket.updated.v1"
	OrderCreated        Name = "order.created.v1"
	OrderCancelled      Name = "order.cancelled.v1"
	OrderCompleted      Name = "order.completed.v1"
	OrderRefunded       Name = "order.refunded.v1"
	ExpirationCompleted Name = "expiration.completed.v1"
	PaymentSucceeded    Name = "payment.succeeded.v1"
	PaymentFailed       Name = "payment.failed.v1"
	PaymentRefunded     Name = "payment.refunded.v1"
)

// TicketReservationRefused: the tickets service did not reserve a ticket
// for an order (data ReservationRefusal: the order's pinned price is no
// longer the ticket's); the orders service cancels the order.
const TicketReservationRefused Name = "ticket.reservation_refused.v1"

// Names lists every known event.
var Names = []Name{
	TicketCreated, TicketUpdated, TicketReservationRefused,
	OrderCreated, OrderCancelled, OrderCompleted, OrderRefunded,
	ExpirationCompleted,
	PaymentSucceeded, PaymentFailed, PaymentRefunded,
}

// Known reports whether n is an event of this version of the contract.
func (n Name) Known() bool {
	for _, k := range Names {
		if k == n {
			return true
		}
	}
	return false
}

// Broker names.
//
// WARNING: exchanges and queues are durable state in RabbitMQ; renaming one
// strands the messages in the old one. Add new names, never change these.
const (
	// Exchange is the durable topic exchange every event is published to.
	Exchange = "ticketing.events"
	// DeadLetterExchange receives what a service's queue gives up on; each
	// service's dead-letter queue is bound to it with the queue's name.
	DeadLetterExchange = "ticketing.dead-letter"
)

// QueueName is the durable quorum queue of a consuming service.
func QueueName(service string) string { return service + ".events" }

// DeadLetterQueueName is where a service's failed messages end, visible.
func DeadLetterQueueName(service string) string { return service + ".events.dead" }
