// Network plumbing for tests, loaded with `node --require ./redirect.js`:
// what an /etc/hosts entry plus the emulator on port 443 would do. HTTPS
// connections to a host:port named in MODEMSIM_REDIRECT (JSON
// {"name:443": "127.0.0.1:port"}) go to the emulator instead, keeping the
// TLS server name, so the certificate is verified against the real host
// name with NODE_EXTRA_CA_CERTS. The SDKs themselves are not touched.
'use strict';
const https = require('https');
const map = JSON.parse(process.env.MODEMSIM_REDIRECT || '{}');
const createConnection = https.Agent.prototype.createConnection;
https.Agent.prototype.createConnection = function (options, cb) {
  const key = `${options.host}:${options.port || 443}`;
  const to = map[key];
  if (to) {
    const i = to.lastIndexOf(':');
    options = Object.assign({}, options, {
      host: to.slice(0, i),
      port: Number(to.slice(i + 1)),
      servername: options.servername || options.host,
    });
  }
  return createConnection.call(this, options, cb);
};
