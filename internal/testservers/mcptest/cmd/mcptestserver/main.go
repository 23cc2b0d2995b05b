// Command mcptestserver serves the mcptest MCP server over streamable HTTP
// on a loopback address for the end-to-end tests, and prints its endpoint
// URL on the first line of stdout.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"hallmonitor/internal/testservers/mcptest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	flag.Parse()
	h, err := mcptest.ListenHTTP(*addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcptestserver:", err)
		os.Exit(1)
	}
	fmt.Println(h.URL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	h.Close()
}
