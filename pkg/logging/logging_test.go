package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/ticketing/ticketing/pkg/logging"
)

func TestNew_WritesJSONWithServiceAndContextIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ctx  context.Context
		want map[string]string
	}{
		{
			name: "no ids",
			ctx:  context.Background(),
			want: map[string]string{"service": "auth", "msg": "hello", "level": "INFO"},
		},
		{
			name: "request id",
			ctx:  logging.WithRequestID(context.Background(), "r1"),
			want: map[string]string{"service": "auth", "request_id": "r1"},
		},
		{
			name: "request and correlation ids",
			ctx:  logging.WithCorrelationID(logging.WithRequestID(context.Background(), "r1"), "c1"),
			want: map[string]string{"request_id": "r1", "correlation_id": "c1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger := logging.New(&buf, "auth", slog.LevelInfo).With("extra", "x")
			logger.InfoContext(tt.ctx, "hello")
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("log line is not JSON: %q", buf.String())
			}
			for k, v := range tt.want {
				if line[k] != v {
					t.Errorf("%s = %v, want %q (line %s)", k, line[k], v, buf.String())
				}
			}
		})
	}
}

func TestNew_DropsLinesBelowLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := logging.New(&buf, "auth", slog.LevelWarn)
	logger.Info("quiet")
	if buf.Len() != 0 {
		t.Errorf("info line logged at warn level: %s", buf.String())
	}
}

func TestIDs_EmptyWhenAbsent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if logging.RequestID(ctx) != "" || logging.CorrelationID(ctx) != "" {
		t.Error("ids of an empty context are not empty")
	}
}
