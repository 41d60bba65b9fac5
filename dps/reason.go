package dps

import (
	"context"
	"log/slog"
	"time"
)

// Reason explains one refusal. The field names match the hub's reasons so the
// two streams can be merged (DESIGN.md "Diagnostics beyond the real thing").
type Reason struct {
	Time           time.Time
	Service        string // always "dps"
	RegistrationID string
	Check          string // which check failed, one of the Check* constants
	Detail         string // human-readable explanation
	Values         map[string]string
}

// Checks a refusal can name.
const (
	CheckProtocolVersion     = "protocol_version"
	CheckUsername            = "username"
	CheckClientID            = "client_id"
	CheckIDScope             = "id_scope"
	CheckSASMalformed        = "sas_malformed"
	CheckSASKeyName          = "sas_key_name"
	CheckSASResource         = "sas_resource"
	CheckSASExpired          = "sas_expired"
	CheckSASSignature        = "sas_signature"
	CheckEnrollmentNotFound  = "enrollment_not_found"
	CheckX509NoCertificate   = "x509_no_certificate"
	CheckX509CNMismatch      = "x509_cn_mismatch"
	CheckX509Validity        = "x509_validity"
	CheckX509ChainIncomplete = "x509_chain_incomplete"
	CheckX509CANotVerified   = "x509_ca_not_verified"
	CheckX509NoEnrollment    = "x509_no_enrollment"
	CheckX509Thumbprint      = "x509_thumbprint_mismatch"
	CheckEnrollmentDisabled  = "enrollment_disabled"
	CheckTopic               = "topic"
	CheckQoS                 = "qos"
	CheckSubscribe           = "subscribe"
	CheckRequestBody         = "request_body"
	CheckOperation           = "operation"
	CheckAssign              = "assign"
	// CheckUndeliverable is not a refusal: a response was dropped because the
	// device had not subscribed to ResponseFilter (it will time out).
	CheckUndeliverable = "response_undeliverable"
)

const serviceName = "dps"

func (s *Service) refuse(regID, check, detail string, values map[string]string) Reason {
	r := Reason{
		Time:           s.opts.clock(),
		Service:        serviceName,
		RegistrationID: regID,
		Check:          check,
		Detail:         detail,
		Values:         values,
	}
	attrs := []slog.Attr{
		slog.String("service", serviceName),
		slog.String("registrationId", regID),
		slog.String("check", check),
		slog.String("detail", detail),
	}
	for k, v := range values {
		attrs = append(attrs, slog.String(k, v))
	}
	s.opts.logger.LogAttrs(context.Background(), slog.LevelWarn, "dps refused", attrs...)
	if s.opts.reasonSink != nil {
		s.opts.reasonSink(r)
	}
	return r
}
