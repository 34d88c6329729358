// Reference receiver for the Centrifugo latency benchmark (examples/centrifugo_bench.rs): the official Go
// SDK, centrifuge-go, beside centrifuge-python.
//
// Usage: centrifuge-go-subscriber <ws-url> <token> <channel> <count>
// Prints READY once subscribed, then one JSON line per publication: {"n": ..., "latency_us": ...}, where the
// latency is this process's wall clock in OnPublication minus the publisher's wall clock in data["t"] (ns),
// the same measure the Python receiver and the add-in's timing use.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/centrifugal/centrifuge-go"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: centrifuge-go-subscriber <ws-url> <token> <channel> <count>")
		os.Exit(2)
	}
	url, token, channel := os.Args[1], os.Args[2], os.Args[3]
	count, err := strconv.Atoi(os.Args[4])
	if err != nil || count <= 0 {
		fmt.Fprintln(os.Stderr, "count must be a positive integer")
		os.Exit(2)
	}

	client := centrifuge.NewJsonClient(url, centrifuge.Config{Token: token})
	defer client.Close()
	client.OnError(func(e centrifuge.ErrorEvent) { fmt.Fprintln(os.Stderr, "client error:", e.Error) })

	sub, err := client.NewSubscription(channel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "subscription:", err)
		os.Exit(1)
	}
	subscribed := make(chan struct{}, 1)
	done := make(chan struct{})
	received := 0
	// OnPublication runs on the SDK's callback goroutine, one call at a time: no lock needed.
	sub.OnPublication(func(e centrifuge.PublicationEvent) {
		now := time.Now().UnixNano()
		var data struct {
			N int64 `json:"n"`
			T int64 `json:"t"`
		}
		if err := json.Unmarshal(e.Data, &data); err != nil {
			fmt.Fprintln(os.Stderr, "bad publication:", err)
			return
		}
		fmt.Printf("{\"n\": %d, \"latency_us\": %.3f}\n", data.N, float64(now-data.T)/1000.0)
		received++
		if received == count {
			close(done)
		}
	})
	sub.OnSubscribed(func(centrifuge.SubscribedEvent) {
		select {
		case subscribed <- struct{}{}:
		default:
		}
	})
	sub.OnError(func(e centrifuge.SubscriptionErrorEvent) { fmt.Fprintln(os.Stderr, "subscription error:", e.Error) })

	if err := client.Connect(); err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	if err := sub.Subscribe(); err != nil {
		fmt.Fprintln(os.Stderr, "subscribe:", err)
		os.Exit(1)
	}
	select {
	case <-subscribed:
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "not subscribed within 30 s")
		os.Exit(1)
	}
	fmt.Println("READY")
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		fmt.Fprintln(os.Stderr, "timed out waiting for publications")
		os.Exit(1)
	}
}
