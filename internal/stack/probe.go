package stack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

var probeClient = &http.Client{Timeout: 2 * time.Second}

// httpOK probes url and wants a 2xx answer.
func httpOK(ctx context.Context, url string, header ...string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// httpAnswers probes url and accepts any HTTP answer.
func httpAnswers(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// redisPing sends PING and wants +PONG.
func redisPing(ctx context.Context, addr string) error {
	return exchange(ctx, addr, []byte("PING\r\n"), func(r *bufio.Reader) error {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "+PONG") {
			return fmt.Errorf("redis answered %q", strings.TrimSpace(line))
		}
		return nil
	})
}

// amqpHandshake sends the AMQP 0-9-1 protocol header and wants the broker's
// connection.start method frame, which RabbitMQ sends only once it accepts
// clients.
func amqpHandshake(ctx context.Context, addr string) error {
	return exchange(ctx, addr, []byte("AMQP\x00\x00\x09\x01"), func(r *bufio.Reader) error {
		b, err := r.Peek(1)
		if err != nil {
			return err
		}
		if b[0] != 1 { // frame type 1: method
			return fmt.Errorf("unexpected AMQP frame type %d", b[0])
		}
		return nil
	})
}

// mongoHello sends an OP_MSG hello command to the admin database and wants
// an answer frame.
func mongoHello(ctx context.Context, addr string) error {
	// BSON {hello: 1, $db: "admin"}
	doc := []byte{}
	doc = append(doc, 0x10)
	doc = append(doc, "hello\x00"...)
	doc = append(doc, 1, 0, 0, 0)
	doc = append(doc, 0x02)
	doc = append(doc, "$db\x00"...)
	doc = append(doc, 6, 0, 0, 0)
	doc = append(doc, "admin\x00"...)
	doc = append(doc, 0)
	doc = append(le32(len(doc)+4), doc...)
	body := append([]byte{0, 0, 0, 0, 0}, doc...) // flag bits, section kind 0
	header := append(le32(16+len(body)), le32(1)...)
	header = append(header, le32(0)...)
	header = append(header, le32(2013)...) // OP_MSG
	return exchange(ctx, addr, append(header, body...), func(r *bufio.Reader) error {
		b := make([]byte, 16)
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		if op := int(b[12]) | int(b[13])<<8; op != 2013 {
			return fmt.Errorf("unexpected mongo opcode %d", op)
		}
		return nil
	})
}

func le32(n int) []byte { return []byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)} }

func exchange(ctx context.Context, addr string, send []byte, check func(*bufio.Reader) error) error {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write(send); err != nil {
		return err
	}
	return check(bufio.NewReader(conn))
}

// commandOK runs a probe command and wants exit status 0.
func commandOK(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}
