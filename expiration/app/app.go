// Package app holds the expiration service's use cases: schedule an order's
// timeout when it is created, drop it when the order ends first, and record
// the expiry when it fires.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ticketing/ticketing/expiration/domain"
)

// Application groups the use cases.
type Application struct {
	Schedule   ScheduleHandler
	Unschedule UnscheduleHandler
	Expire     ExpireHandler
}

// ScheduleHandler schedules the timeout of a created order.
type ScheduleHandler struct {
	scheduler domain.Scheduler
	log       *slog.Logger
}

// NewScheduleHandler returns the use case.
func NewScheduleHandler(s domain.Scheduler, log *slog.Logger) ScheduleHandler {
	return ScheduleHandler{scheduler: s, log: log}
}

// Handle schedules orderID to expire at expiresAt; a redelivered
// order.created schedules nothing more.
func (h ScheduleHandler) Handle(ctx context.Context, orderID string, expiresAt time.Time) error {
	t, err := domain.NewTimeout(orderID, expiresAt)
	if err != nil {
		return err
	}
	scheduled, err := h.scheduler.Schedule(ctx, t)
	if err != nil {
		return fmt.Errorf("schedule %s: %w", orderID, err)
	}
	if !scheduled {
		h.log.InfoContext(ctx, "timeout already scheduled", "order_id", orderID)
	}
	return nil
}

// UnscheduleHandler drops the timeout of an order that ended first.
type UnscheduleHandler struct {
	scheduler domain.Scheduler
}

// NewUnscheduleHandler returns the use case.
func NewUnscheduleHandler(s domain.Scheduler) UnscheduleHandler {
	return UnscheduleHandler{scheduler: s}
}

// Handle removes orderID's pending timeout, if any.
func (h UnscheduleHandler) Handle(ctx context.Context, orderID string) error {
	return h.scheduler.Unschedule(ctx, orderID)
}

// ExpireHandler records that an order's hold window ended.
type ExpireHandler struct {
	expirations domain.Expirations
	now         func() time.Time
}

// NewExpireHandler returns the use case.
func NewExpireHandler(e domain.Expirations) ExpireHandler {
	return ExpireHandler{expirations: e, now: time.Now}
}

// Handle records the expiry of orderID with its expiration.completed event
// (published by the outbox relay); a timeout that fires twice records once.
func (h ExpireHandler) Handle(ctx context.Context, orderID, correlationID string) error {
	_, err := h.expirations.Record(ctx, orderID, h.now().UTC(), correlationID)
	return err
}
