package webconsole

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
)

// browser is headless Chromium driven over the DevTools protocol (just
// Runtime.evaluate on one page).
type browser struct {
	ws  *websocket.Conn
	mu  sync.Mutex
	seq int
}

var devtoolsLine = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// openChromium starts Chromium on pageURL, or skips when it is not installed.
// Flags per the machine notes: no background networking, fresh profile.
func openChromium(t *testing.T, pageURL string) *browser {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium not installed (Debian package chromium; ci/test.sh installs it as root)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-port=0", "--remote-allow-origins=*", pageURL)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	var browserURL string
	select {
	case browserURL = <-found:
	case <-time.After(60 * time.Second):
		t.Fatal("chromium did not print its DevTools address")
	}
	u, err := url.Parse(browserURL)
	require.NoError(t, err)
	// The page given on the command line is a target of /json/list.
	var wsURL string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + u.Host + "/json/list")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var targets []struct{ Type, URL, WebSocketDebuggerURL string }
		if json.NewDecoder(resp.Body).Decode(&targets) != nil {
			return false
		}
		for _, tg := range targets {
			if tg.Type == "page" && strings.HasPrefix(tg.URL, pageURL) {
				wsURL = tg.WebSocketDebuggerURL
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "no page target")
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.Close() })
	return &browser{ws: ws}
}

// eval evaluates a JavaScript expression in the page and returns its value.
func (b *browser) eval(expr string) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	id := b.seq
	if err := b.ws.WriteJSON(map[string]any{"id": id, "method": "Runtime.evaluate",
		"params": map[string]any{"expression": expr, "returnByValue": true}}); err != nil {
		return nil, err
	}
	_ = b.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var msg struct {
			ID     int `json:"id"`
			Result struct {
				Result struct {
					Value any `json:"value"`
				} `json:"result"`
				ExceptionDetails any `json:"exceptionDetails"`
			} `json:"result"`
			Error any `json:"error"`
		}
		if err := b.ws.ReadJSON(&msg); err != nil {
			return nil, err
		}
		if msg.ID != id {
			continue // an event
		}
		if msg.Error != nil || msg.Result.ExceptionDetails != nil {
			return nil, fmt.Errorf("evaluate %q: %v %v", expr, msg.Error, msg.Result.ExceptionDetails)
		}
		return msg.Result.Result.Value, nil
	}
}

// waitText waits until the page's text at selector contains want.
func (b *browser) waitText(t *testing.T, selector, want string) {
	t.Helper()
	expr := fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, selector)
	var last any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		v, err := b.eval(expr)
		if err != nil {
			last = err
			continue
		}
		last = v
		if s, _ := v.(string); strings.Contains(s, want) {
			return
		}
	}
	t.Fatalf("%s never contained %q; last: %v", selector, want, last)
}

// TestConsoleInChromium loads the console in headless Chromium and watches
// a device connect, its telemetry arrive, and a refusal with its reason
// appear; one click opens the compared values.
func TestConsoleInChromium(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	_, err := v.e.CreateDevice(hub.DeviceSpec{ID: "webdev", Auth: hub.AuthSAS})
	require.NoError(t, err)
	b := openChromium(t, v.srv.URL+"/ui/")
	b.waitText(t, `tr[data-device="webdev"]`, "webdev")

	c, err := v.device(t, "webdev", "")
	require.NoError(t, err)
	b.waitText(t, `tr[data-device="webdev"] td.connected`, "connected")

	tok := c.Publish("devices/webdev/messages/events/unit=C", 1, false, `{"temperature":21.5}`)
	require.True(t, tok.WaitTimeout(10*time.Second))
	b.waitText(t, "#telemetry", `webdev {"temperature":21.5}`)

	_, err = v.device(t, "webdev", "SharedAccessSignature sr=wrong&sig=AAAA&se=4102444800")
	require.Error(t, err)
	b.waitText(t, "#attempts", "sas-resource")

	_, err = b.eval(`document.querySelector('#attempts details.refused summary').click()`)
	require.NoError(t, err)
	b.waitText(t, "#attempts details.refused[open] .details", "requiredResource")
}
