// Drives the official Azure IoT service SDKs against the emulator. Usage:
//   node --require ./redirect.js service.js <step> [args]
// Steps print one JSON line with what the SDK returned; errors exit 1 with
// the SDK's error name and message on stderr.
'use strict';
const iothub = require('azure-iothub');
const provisioning = require('azure-iot-provisioning-service');
const device = require('azure-iot-device');
const { MqttWs } = require('azure-iot-device-mqtt');

const hubCS = process.env.HUB_CONNECTION_STRING;
const dpsCS = process.env.DPS_CONNECTION_STRING;

function out(v) { process.stdout.write(JSON.stringify(v) + '\n'); }

const steps = {
  // Registry: create (SAS and X.509 thumbprint), get, list, update, twin.
  async registry(deviceId) {
    const registry = iothub.Registry.fromConnectionString(hubCS);
    const created = (await registry.create({ deviceId, status: 'enabled' })).responseBody;
    const x509 = (await registry.create({
      deviceId: deviceId + '-x509',
      authentication: { x509Thumbprint: { primaryThumbprint: 'AB'.repeat(20) } },
    })).responseBody;
    const got = (await registry.get(deviceId)).responseBody;
    const list = (await registry.list()).responseBody.map((d) => d.deviceId);
    const disabled = (await registry.update({ deviceId: deviceId + '-x509', status: 'disabled',
      authentication: { x509Thumbprint: { primaryThumbprint: 'AB'.repeat(20) } } })).responseBody;
    const twin = (await registry.getTwin(deviceId)).responseBody;
    const etagBefore = twin.etag; // update() refreshes the same object
    const patched = (await twin.update({ tags: { site: 'lab', floor: 2 }, properties: { desired: { interval: 30 } } })).result;
    const again = (await registry.getTwin(deviceId)).responseBody;
    await registry.delete(deviceId + '-x509');
    out({
      created: { deviceId: created.deviceId, type: created.authentication.type,
        primaryKey: created.authentication.symmetricKey.primaryKey },
      x509: { type: x509.authentication.type, thumb: x509.authentication.x509Thumbprint.primaryThumbprint },
      got: got.deviceId, list, disabledStatus: disabled.status,
      twinEtag: etagBefore, patchedEtag: patched.etag,
      desired: again.properties.desired, tags: again.tags,
    });
  },
  async method(deviceId) {
    const client = iothub.Client.fromConnectionString(hubCS);
    const res = await client.invokeDeviceMethod(deviceId, { methodName: 'reboot', payload: { delay: 5 }, responseTimeoutInSeconds: 10 });
    out({ status: res.result.status, payload: res.result.payload });
  },
  async dps(groupId, signingPem) {
    const client = provisioning.ProvisioningServiceClient.fromConnectionString(dpsCS);
    const sym = (await client.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: groupId, attestation: { type: 'symmetricKey' }, provisioningStatus: 'enabled',
    })).responseBody;
    const x509 = (await client.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: groupId + '-x509',
      attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: signingPem } } } },
    })).responseBody;
    const ind = (await client.createOrUpdateIndividualEnrollment({
      registrationId: groupId + '-one', deviceId: groupId + '-device', attestation: { type: 'symmetricKey' },
    })).responseBody;
    const got = (await client.getEnrollmentGroup(groupId)).responseBody;
    out({ sym: { id: sym.enrollmentGroupId, type: sym.attestation.type, primaryKey: sym.attestation.symmetricKey.primaryKey },
      x509: { id: x509.enrollmentGroupId, subject: x509.attestation.x509.signingCertificates.primary.info.subjectName },
      individual: { id: ind.registrationId, deviceId: ind.deviceId }, gotEtag: got.etag });
  },
  // The device SDK over MQTT/WebSockets, as shipped: it dials
  // wss://<host>:443/$iothub/websocket without ?iothub-no-client-cert=true.
  async devicews(connectionString) {
    const client = device.Client.fromConnectionString(connectionString, MqttWs);
    await client.open();
    const msg = new device.Message(JSON.stringify({ over: 'websocket' }));
    msg.properties.add('sdk', 'node');
    await client.sendEvent(msg);
    const twin = await client.getTwin();
    await client.close();
    out({ desired: twin.properties.desired });
  },
  async unauthorized() {
    const registry = iothub.Registry.fromConnectionString(hubCS);
    try {
      await registry.get('anything');
      out({ error: null });
    } catch (err) {
      out({ error: err.constructor.name, message: err.message });
    }
  },
};

const [step, ...args] = process.argv.slice(2);
steps[step](...args).then(() => process.exit(0), (err) => {
  process.stderr.write(`${err.constructor.name}: ${err.message}\n${err.responseBody || ''}\n`);
  process.exit(1);
});
