package dps

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// registerBody is the register request (§2.2 [doc P-MQTT; src S-PROV]).
type registerBody struct {
	RegistrationID *string         `json:"registrationId"`
	Payload        json.RawMessage `json:"payload,omitempty"`
}

func (s *Service) handle(cl *mqtt.Client, req request, payload []byte) {
	s.mu.Lock()
	sess := s.sessions[cl]
	s.mu.Unlock()
	if sess == nil {
		return
	}
	if !s.regQuota.Allow(s.opts.clock()) {
		regID := sess.id.RegistrationID
		s.refuse(regID, CheckThrottled, "request over the registration quota; answered 429 with retry-after",
			map[string]string{"limit": strconv.Itoa(s.regQuota.Limit()), "window": s.regQuota.Window().String()})
		s.reply(cl, regID, 429, req.RID, s.retryAfterSeconds(), s.errorBody(errCodeThrottled, errMsgThrottled))
		return
	}
	switch req.Kind {
	case kindRegister:
		s.register(cl, sess, req, payload)
	case kindOperationStatus:
		s.operationStatus(cl, sess, req)
	}
}

func (s *Service) register(cl *mqtt.Client, sess *session, req request, payload []byte) {
	regID := sess.id.RegistrationID
	if sess.att == nil {
		// Refused at CONNECT in RejectRegister401 mode: the reason was emitted then.
		s.recordFailure(regID, sess.errCode, sess.errMsg)
		s.reply(cl, regID, 401, req.RID, 0, s.errorBody(sess.errCode, sess.errMsg))
		return
	}
	var body registerBody
	if len(payload) == 0 {
		// Nordic's azure_iot_hub_dps publishes the register request with no
		// payload ("Publishing to DPS registration topic: %.*s, no payload"
		// [S sdk-nrf azure_iot_hub_dps.c dps_send_reg_request]) and real DPS
		// assigns it (FAILURE-CASES D2, M2 [T]): the connection names the device.
		body.RegistrationID = &regID
	} else if err := json.Unmarshal(payload, &body); err != nil || body.RegistrationID == nil {
		detail := "register body has no registrationId"
		if err != nil {
			detail = "register body is not JSON: " + err.Error()
		}
		s.refuse(regID, CheckRequestBody, detail, map[string]string{"body": truncate(string(payload), 256)})
		s.reply(cl, regID, 400, req.RID, 0, s.errorBody(errCodeBadRequest, "Bad request: "+detail))
		return
	}
	if !strings.EqualFold(*body.RegistrationID, regID) {
		detail := fmt.Sprintf("registrationId %q in the body ≠ %q of the connection", *body.RegistrationID, regID)
		s.refuse(regID, CheckRequestBody, detail, nil)
		s.reply(cl, regID, 400, req.RID, 0, s.errorBody(errCodeBadRequest, "Bad request: "+detail))
		return
	}

	now := s.opts.clock().UTC()
	op := &operation{id: s.operationID(), regKey: regKey(regID), att: sess.att, polls: s.opts.assigningPolls}
	s.mu.Lock()
	s.ops[op.id] = op
	r := s.registrationLocked(regID, now)
	r.Status, r.Substatus, r.ErrorCode, r.ErrorMessage = statusAssigning, "", 0, ""
	r.Attestation = sess.att.Type
	r.EnrollmentGroupID = groupID(sess.att)
	r.Payload = body.Payload
	s.mu.Unlock()
	err := s.save()
	if err != nil {
		s.opts.logger.Error("dps: save registration", "error", err)
	}
	s.reply(cl, regID, 202, req.RID, s.retryAfterSeconds(), mustJSON(OperationStatus{OperationID: op.id, Status: statusAssigning}))
}

func (s *Service) operationStatus(cl *mqtt.Client, sess *session, req request) {
	regID := sess.id.RegistrationID
	if sess.att == nil {
		s.reply(cl, regID, 401, req.RID, 0, s.errorBody(sess.errCode, sess.errMsg))
		return
	}
	s.mu.Lock()
	op, ok := s.ops[req.OperationID]
	if ok && op.regKey != regKey(regID) {
		ok = false // another device's operation is invisible
	}
	if !ok {
		s.mu.Unlock()
		s.refuse(regID, CheckOperation, fmt.Sprintf("unknown operationId %q", req.OperationID), nil)
		s.reply(cl, regID, 404, req.RID, 0, s.errorBody(errCodeNotFound, "Operation not found."))
		return
	}
	if op.result == nil && (op.polls > 0 || op.finishing) {
		// Still assigning, or another connection of this device is finishing it.
		op.polls = max(op.polls-1, 0)
		s.mu.Unlock()
		s.reply(cl, regID, 202, req.RID, s.retryAfterSeconds(), mustJSON(OperationStatus{
			OperationID:       op.id,
			Status:            statusAssigning,
			RegistrationState: &RegistrationState{RegistrationID: regID, Status: statusAssigning},
		}))
		return
	}
	result := op.result
	op.finishing = result == nil
	s.mu.Unlock()
	if result == nil {
		result = s.finish(op)
	}
	s.reply(cl, regID, 200, req.RID, 0, result)
}

// finish decides the operation: disabled, assigned or failed.
func (s *Service) finish(op *operation) []byte {
	att := op.att
	regID := att.RegistrationID
	s.mu.Lock()
	enabled, exists := s.enrollmentEnabledLocked(att)
	s.mu.Unlock()

	st := &RegistrationState{RegistrationID: regID}
	switch att.Type {
	case AttestationX509:
		st.X509 = &X509RegistrationInfo{CertificateInfo: certInfo(att.Leaf), EnrollmentGroupID: groupID(att),
			SigningCertificateInfo: certInfo(att.Signer)}
	case AttestationSymmetricKey:
		st.SymmetricKey = &SymmetricKeyInfo{EnrollmentGroupID: groupID(att)}
	}
	switch {
	case !exists:
		st.Status, st.ErrorCode, st.ErrorMessage = statusFailed, errCodeNotFound, "Enrollment not found."
		s.refuse(regID, CheckEnrollmentNotFound, att.enrollmentName()+" was deleted during the registration", nil)
	case !enabled:
		// A disabled enrollment is not provisioned: status "disabled" (§2.4 [inf for the exact shape]).
		st.Status = statusDisabled
		s.refuse(regID, CheckEnrollmentDisabled, att.enrollmentName()+" is disabled; the device is not provisioned",
			map[string]string{"enrollment": att.enrollmentName()})
	default:
		d := AssignedDevice{DeviceID: att.DeviceID, SymmetricKey: att.Key, RegistrationID: regID, EnrollmentGroupID: groupID(att)}
		if att.Type == AttestationX509 {
			d.SymmetricKey = nil
			d.X509ThumbprintSHA256 = thumbSHA256(att.Leaf)
			d.X509CAChain = att.Group != nil
		}
		ctx, cancel := context.WithTimeout(s.ctx, assignTimeout)
		hubHost, err := s.assigner.AssignDevice(ctx, d)
		cancel()
		if err != nil {
			st.Status, st.ErrorCode, st.ErrorMessage = statusFailed, errCodeAssignFailed, "Device assignment failed."
			s.refuse(regID, CheckAssign, "the IoT hub refused the device: "+err.Error(), map[string]string{"deviceId": d.DeviceID})
		} else {
			st.Status, st.Substatus, st.AssignedHub, st.DeviceID = statusAssigned, substatusInitial, hubHost, d.DeviceID
		}
	}

	now := s.opts.clock().UTC()
	s.mu.Lock()
	r := s.registrationLocked(regID, now)
	r.Status, r.Substatus, r.ErrorCode, r.ErrorMessage = st.Status, st.Substatus, st.ErrorCode, st.ErrorMessage
	r.DeviceID, r.AssignedHub = st.DeviceID, st.AssignedHub
	r.ETag = s.etag()
	st.CreatedDateTimeUTC = r.Created.Format(timeFormat)
	st.LastUpdatedDateTimeUTC = r.LastUpdated.Format(timeFormat)
	st.ETag = r.ETag
	op.result = mustJSON(OperationStatus{OperationID: op.id, Status: st.Status, RegistrationState: st})
	result := op.result
	s.mu.Unlock()
	err := s.save()
	if err != nil {
		s.opts.logger.Error("dps: save registration", "error", err)
	}
	return result
}

// enrollmentEnabledLocked reads the enrollment as it is now (an admin may
// have disabled it since CONNECT). s.mu must be held.
func (s *Service) enrollmentEnabledLocked(att *attestation) (enabled, exists bool) {
	if att.Individual != nil {
		e, ok := s.st.Individuals[regKey(att.Individual.RegistrationID)]
		return ok && e.Enabled, ok
	}
	g, ok := s.st.Groups[att.Group.GroupID]
	return ok && g.Enabled, ok
}

// registrationLocked returns the record for regID, creating it. s.mu must be held.
func (s *Service) registrationLocked(regID string, now time.Time) *Registration {
	r, ok := s.st.Registrations[regKey(regID)]
	if !ok {
		r = &Registration{RegistrationID: regID, Created: now}
		s.st.Registrations[regKey(regID)] = r
	}
	r.LastUpdated = now
	return r
}

func (s *Service) recordFailure(regID string, code int, msg string) {
	now := s.opts.clock().UTC()
	s.mu.Lock()
	r := s.registrationLocked(regID, now)
	r.Status, r.Substatus, r.ErrorCode, r.ErrorMessage = statusFailed, "", code, msg
	s.mu.Unlock()
	err := s.save()
	if err != nil {
		s.opts.logger.Error("dps: save registration", "error", err)
	}
}

func groupID(att *attestation) string {
	if att.Group != nil {
		return att.Group.GroupID
	}
	return ""
}

func (s *Service) retryAfterSeconds() int {
	return max(1, int(math.Round(s.opts.retryAfter.Seconds())))
}

func (s *Service) errorBody(code int, msg string) []byte {
	return mustJSON(ErrorBody{ErrorCode: code, TrackingID: s.uuid(), Message: msg,
		TimestampUTC: s.opts.clock().UTC().Format(timeFormat)})
}

// reply writes a response to this connection only, as DPS does: the topic
// carries no device identity, so fan-out would leak it to other devices.
// It mirrors mochi's unexported publishToClient [inf from S-MOCHI].
func (s *Service) reply(cl *mqtt.Client, regID string, status int, rid string, retryAfter int, body []byte) {
	topic := responseTopic(status, rid, retryAfter)
	sub, ok := cl.State.Subscriptions.Get(ResponseFilter)
	if !ok {
		s.refuse(regID, CheckUndeliverable, errUndeliverable.Error()+"; response "+topic+" dropped, the device will time out", nil)
		return
	}
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: min(sub.Qos, 1)},
		TopicName:   topic,
		Payload:     body,
	}
	if pk.FixedHeader.Qos > 0 {
		id, err := cl.NextPacketID()
		if err != nil {
			s.opts.logger.Warn("dps: no packet id", "client", cl.ID, "error", err)
			return
		}
		pk.PacketID = uint16(id)
		if cl.State.Inflight.Set(pk) {
			cl.State.Inflight.DecreaseSendQuota()
		}
	}
	if err := cl.WritePacket(pk); err != nil {
		s.opts.logger.Warn("dps: write response", "client", cl.ID, "topic", topic, "error", err)
	}
}

// operationID looks like the service's "4.d0a671905ea5b2c8.b4f2bb75-…" (§2.2 [src S-PROV]).
func (s *Service) operationID() string {
	b := make([]byte, 8)
	s.fill(b)
	return fmt.Sprintf("4.%x.%s", b, s.uuid())
}

// etag is a base64 quoted GUID like the service's [inf from P-REST examples].
func (s *Service) etag() string {
	return base64.StdEncoding.EncodeToString([]byte(`"` + s.uuid() + `"`))
}

func (s *Service) uuid() string {
	b := make([]byte, 16)
	s.fill(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (s *Service) fill(b []byte) {
	if _, err := io.ReadFull(s.opts.rand, b); err != nil {
		panic(fmt.Sprintf("dps: randomness failed: %v", err)) // crypto/rand never fails
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("dps: encode %T: %v", v, err)) // only fixed struct types are encoded
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
