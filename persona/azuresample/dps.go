package azuresample

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/modemsim/modemsim/atomicfile"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/netstack/errmap"
)

// AssignmentFile holds the DPS assignment in the state directory, as the
// library keeps "azure_iot_hub/hostname" and "azure_iot_hub/device_id" in
// the settings partition [S dps.c dps_save_hostname, dps_save_device_id].
const AssignmentFile = "azure_iot_hub_dps.json"

// Assignment is the stored DPS result.
type Assignment struct {
	HostName string `json:"hostname"`
	DeviceID string `json:"device_id"`
}

func (f *Firmware) loadAssignment() (Assignment, error) {
	var a Assignment
	if f.deps.StateDir == "" {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.memAssignment, nil
	}
	b, err := os.ReadFile(filepath.Join(f.deps.StateDir, AssignmentFile))
	if errors.Is(err, os.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return a, fmt.Errorf("azure_iot_hub: read DPS assignment: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return Assignment{}, fmt.Errorf("azure_iot_hub: DPS assignment %s: %w", AssignmentFile, err)
	}
	return a, nil
}

func (f *Firmware) saveAssignment(a Assignment) error {
	if f.deps.StateDir == "" {
		f.mu.Lock()
		f.memAssignment = a
		f.mu.Unlock()
		return nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.deps.StateDir, 0o755); err != nil {
		return fmt.Errorf("azure_iot_hub: state dir: %w", err)
	}
	return atomicfile.Write(filepath.Join(f.deps.StateDir, AssignmentFile), b)
}

// dpsRun is main.c dps_run() with the library's azure_iot_hub_dps_init
// and _start: it returns the assigned hub and device ID, or the error the
// sample prints and, when the MQTT poll loop reports one after it, a
// function printing that line.
func (f *Firmware) dpsRun(ctx context.Context) (host, dev string, code int, after func()) {
	o := f.out
	o.log(mStartingDPS)
	regID := f.cfg.DeviceID // main.c: the device ID is the registration ID
	if regID == "" {
		regID = f.cfg.RegID // dps_reg_id_set: Kconfig value when none given
	}
	if regID == "" {
		o.log(mDPSRegIDZero)
		o.log(mDPSInitFailed, errEFAULT)
		return "", "", errEFAULT, nil
	}
	if f.cfg.IDScope == "" {
		o.log(mDPSScopeZero)
		o.log(mDPSInitFailed, errEFAULT)
		return "", "", errEFAULT, nil
	}
	o.log(mDPSStatus, regNotStarted)
	stored, err := f.loadAssignment()
	if err != nil {
		f.deps.Logger.Warn("azure_iot_hub: stored DPS assignment unreadable, registering again", "error", err)
	}
	if stored.HostName != "" && stored.DeviceID != "" {
		o.log(mDPSAssignedTo, stored.DeviceID, stored.HostName)
		o.log(mDPSAlready)
		o.log(mDPSAssigned, stored.DeviceID, stored.HostName)
		return stored.HostName, stored.DeviceID, 0, nil
	}

	// provisioning_client_init: az_iot_provisioning_client_get_user_name
	// [S azure-sdk-for-c az_iot_provisioning_client.c; azure-iot-hub.md §2.1].
	user := fmt.Sprintf("%s/registrations/%s/api-version=%s&ClientVersion=azsdk-c%%2F%s", f.cfg.IDScope, regID, dpsAPIVersion, f.set.AzureSDKVersion)
	o.log(mDPSUserName, len(user), user)
	msgs := make(chan netstack.Message, 16)
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, out := f.dial(dctx, f.cfg.DPSHostName, regID, user, func(m netstack.Message) {
		m.Payload = append([]byte(nil), m.Payload...)
		select {
		case msgs <- m:
		case <-dctx.Done():
		}
	}, nil)
	if ctx.Err() != nil {
		return "", "", errEFAULT, nil
	}
	if out.ret != 0 {
		o.log(mDPSHelperErr, out.ret)
		o.log(mDPSStartFailed, out.ret)
		return "", "", out.ret, nil
	}
	o.log(mDPSState, "DPS_STATE_DISCONNECTED", "DPS_STATE_CONNECTING")
	o.log(mDPSStarted, int(f.cfg.DPSTimeout/time.Second))
	if c == nil {
		// on_connack refused → on_reg_failed → on_reg_completed(NULL): the
		// helper is already disconnected, so the graceful disconnect fails
		// [S dps.c, helper.c; T D1 log].
		o.log(mDPSRejected, out.refused)
		o.log(mDPSCertValid)
		o.log(mHelperWrongState, stDisconnected, stConnected)
		o.log(mDPSNoGraceful, errEOPNOTSUPP)
		o.log(mDPSStopped)
		o.log(mDPSStatus, regFailed)
		return "", "", errEFAULT, func() { o.log(mHelperInput, errECONNREF) }
	}
	defer c.Disconnect(250 * time.Millisecond)
	o.log(mDPSState, "DPS_STATE_CONNECTING", "DPS_STATE_CONNECTED")
	fail := func(m *dpsResponse) (string, string, int, func()) {
		if m == nil {
			o.log(mDPSStopped)
		} else {
			o.log(mDPSNotAssigned)
			o.log(mDPSExtErr, m.ErrorCode)
			o.log(mDPSErrMessage, m.ErrorMsg)
			o.log(mDPSNoHub)
		}
		o.log(mDPSStatus, regFailed)
		return "", "", errEFAULT, nil
	}
	sctx, scancel := context.WithTimeout(ctx, f.pubWait)
	_, err = c.Subscribe(sctx, topicDPSSub, 0)
	scancel()
	if err != nil {
		o.log(mDPSSubFailed, f.errno(err))
		return fail(nil)
	}
	// on_suback: the register request, with no payload [S dps.c].
	o.log(mDPSPublishReg, topicDPSRegister)
	if err := f.dpsPublish(ctx, c, topicDPSRegister); err != nil {
		o.log(mDPSSendFailed, f.errno(err))
		return fail(nil)
	}
	o.log(mDPSStatus, regAssigning)
	retries := 0
	lost := c.Done()
	timeout := time.NewTimer(f.cfg.DPSTimeout)
	defer timeout.Stop()
	for {
		var m netstack.Message
		select {
		case <-ctx.Done():
			return "", "", errEFAULT, nil
		case <-timeout.C:
			o.log(mDPSTimeout)
			return fail(nil)
		case <-lost:
			// on_disconnect only moves the state; the timeout ends the wait [S dps.c].
			lost = nil
			continue
		case m = <-msgs:
		}
		timeout.Reset(f.cfg.DPSTimeout) // timeout_work_restart_timer in on_publish
		r, err := parseDPSResponse(m.Topic, m.Payload)
		if err != nil {
			o.log(mDPSNotResponse)
			return fail(nil)
		}
		o.log(mDPSStatusCode, r.Status)
		if r.Status < 200 || r.Status >= 300 {
			if r.Status != 429 && r.Status < 500 { // az_iot_status_retriable
				o.log(mDPSNonRetriable, r.Status)
				return fail(&r)
			}
		}
		if r.complete() {
			if r.OpStatus != "assigned" {
				return fail(&r)
			}
			a := Assignment{HostName: r.AssignedHub, DeviceID: r.DeviceID}
			if err := f.saveAssignment(a); err != nil {
				o.log(mDPSSaveFailed, errEIO)
				f.deps.Logger.Warn("azure_iot_hub: save DPS assignment", "error", err)
			}
			o.log(mDPSStatus, regAssigned)
			o.log(mDPSAssigned, a.DeviceID, a.HostName)
			return a.HostName, a.DeviceID, 0, nil
		}
		wait := r.RetryAfter
		if wait == 0 {
			o.log(mDPSRetryDefault, dpsRetryAfterDefault)
			wait = dpsRetryAfterDefault
		} else {
			o.log(mDPSRetryValue, wait)
		}
		if len(r.OperationID) > dpsOperationIDBufSize {
			o.log(mDPSOpTooLong)
			return fail(&r)
		}
		o.log(mDPSOperationID, r.OperationID)
		o.log(mDPSStatus, regAssigning)
		select {
		case <-ctx.Done():
			return "", "", errEFAULT, nil
		case <-time.After(time.Duration(wait) * time.Second):
		}
		retries++
		if retries > dpsMaxRetries {
			o.log(mDPSMaxRetries, dpsMaxRetries)
			return fail(nil)
		}
		if err := f.dpsPublish(ctx, c, fmt.Sprintf(topicDPSStatusFmt, r.OperationID)); err != nil {
			o.log(mDPSStatusFailed, f.errno(err))
			return fail(nil)
		}
	}
}

// errno is what a library call returns for err on this board (EIO where
// the table has no number).
func (f *Firmware) errno(err error) int {
	if n := errmap.For(f.sockets(), err).Errno; n != 0 {
		return n
	}
	return errEIO
}

func (f *Firmware) dpsPublish(ctx context.Context, c *netstack.MQTTClient, topic string) error {
	pctx, cancel := context.WithTimeout(ctx, f.pubWait)
	defer cancel()
	// QoS 1 [S dps.c MQTT_QOS_1_AT_LEAST_ONCE].
	return c.Publish(pctx, topic, 1, false, nil)
}
