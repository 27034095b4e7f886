// datalab's launcher for FerretDB v1 with its SQLite backend: the
// MongoDB-compatible server of both the native provider (a process on
// 127.0.0.1) and the datalab/mongodb image (built by `datalab services
// build-images`). FerretDB's own command refuses to run when built outside
// its repository (it wants generated version files), so datalab builds this
// small main around the module's embeddable `ferretdb` package instead, from
// the Go module proxy, static (CGO off).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqlite := flag.String("sqlite-url", "file:data/", "SQLite data directory URI")
	flag.Parse()
	// FerretDB spends a lab check decoding every stored document's JSON (its
	// SQLite backend pushes down only string and ObjectId _id filters), and
	// about a fifth of that in Go's garbage collector. Its live heap is a few
	// MB, so a GC target of 400% costs little memory and takes about a third
	// off a warm check. A GOGC set by the user wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: *sqlite,
		Logger:    logger,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	logger.Warn("datalab-ferretdb listening", "addr", *listen)
	if err := f.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}
