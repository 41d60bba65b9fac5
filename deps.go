//go:build tools

package tools

import (
	_ "github.com/creack/pty"
	_ "github.com/cucumber/godog"
	_ "github.com/stretchr/testify/require"
	_ "github.com/mochi-mqtt/server/v2"
	_ "github.com/eclipse/paho.mqtt.golang"
	_ "github.com/fxamacker/cbor/v2"
	_ "github.com/veraison/go-cose"
	_ "github.com/gorilla/websocket"
	_ "golang.org/x/sys/unix"
)
