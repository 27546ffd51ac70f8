package service

import (
	"fmt"
	"net/url"

	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/keto"
	"github.com/ticketing/ticketing/pkg/logging"
	"github.com/ticketing/ticketing/pkg/session"
)

// Config is the tickets service's configuration, read from the environment
// (docs/contracts-local.md, tickets/README.md).
type Config struct {
	HTTP    httpserver.Config // HTTP_ADDR
	Log     logging.Config    // LOG_LEVEL
	Session session.Config    // KRATOS_PUBLIC_URL, SESSION_CACHE_TTL, PUBLIC_URL, CORS_ALLOWED_ORIGINS
	Keto    keto.Config       // KETO_READ_URL, KETO_WRITE_URL

	MongoURI      string `env:"MONGO_URI,required"`
	MongoDatabase string `env:"MONGO_DATABASE" default:"tickets"`
	RabbitMQURL   string `env:"RABBITMQ_URL,required"`
	// CursorSecret signs list cursors; the same on every instance.
	CursorSecret string `env:"CURSOR_SECRET,required" validate:"min=16,secret"`
}

// Validate checks what the field rules cannot: the broker URL's scheme.
func (c *Config) Validate() error {
	u, err := url.Parse(c.RabbitMQURL)
	if err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
		return fmt.Errorf("RABBITMQ_URL: must be an amqp:// or amqps:// URL with a host")
	}
	return nil
}
