// Network plumbing for tests, loaded with `node --require ./redirect.js`:
// what an /etc/hosts entry plus the emulator on port 443 would do. HTTPS
// connections to a host:port named in MODEMSIM_REDIRECT (JSON
// {"name:443": "127.0.0.1:port"}) go to the emulator instead, keeping the
// TLS server name, so the certificate is verified against the real host
// name with NODE_EXTRA_CA_CERTS. The SDKs themselves are not touched.
'use strict';
const https = require('https');
const tls = require('tls');
const map = JSON.parse(process.env.MODEMSIM_REDIRECT || '{}');

function redirected(options) {
  const to = map[`${options.host}:${options.port || 443}`];
  if (!to) return options;
  const i = to.lastIndexOf(':');
  return Object.assign({}, options, {
    host: to.slice(0, i),
    port: Number(to.slice(i + 1)),
    servername: options.servername || options.host,
  });
}

// WebSocket clients (the `ws` package under MQTT.js) call tls.connect directly.
const tlsConnect = tls.connect;
tls.connect = function (...args) {
  if (args.length && typeof args[0] === 'object' && args[0] !== null) args[0] = redirected(args[0]);
  return tlsConnect.apply(this, args);
};
const createConnection = https.Agent.prototype.createConnection;
https.Agent.prototype.createConnection = function (options, cb) {
  return createConnection.call(this, redirected(options), cb);
};
