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
	CheckProtocolVersion     = "protocol-version"
	CheckUsername            = "username"
	CheckClientID            = "client-id"
	CheckIDScope             = "id-scope"
	CheckSASMalformed        = "sas-malformed"
	CheckSASKeyName          = "sas-key-name"
	CheckSASResource         = "sas-resource"
	CheckSASExpired          = "sas-expired"
	CheckSASSignature        = "sas-signature"
	CheckEnrollmentNotFound  = "enrollment-not-found"
	CheckX509NoCertificate   = "x509-no-certificate"
	CheckX509CNMismatch      = "x509-cn-mismatch"
	CheckX509Validity        = "x509-validity"
	CheckX509ChainIncomplete = "x509-chain-incomplete"
	CheckX509CANotVerified   = "x509-ca-not-verified"
	CheckX509NoEnrollment    = "x509-no-enrollment"
	CheckX509Thumbprint      = "x509-thumbprint-mismatch"
	CheckEnrollmentDisabled  = "enrollment-disabled"
	CheckTopic               = "topic"
	CheckQoS                 = "qos"
	CheckSubscribe           = "subscribe"
	CheckRequestBody         = "request-body"
	CheckOperation           = "operation"
	CheckAssign              = "assign"
	// CheckUndeliverable is not a refusal: a response was dropped because the
	// device had not subscribed to ResponseFilter (it will time out).
	CheckUndeliverable = "response-undeliverable"
	// CheckThrottled: over the registration quota; answered 429.
	CheckThrottled = "throttled"
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
