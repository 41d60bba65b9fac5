package azuresample

// Msg is one log statement of the sample or a library it links: module,
// level, the function Zephyr prefixes to debug lines, and the format.
type Msg struct {
	Mod    string
	Level  Level
	Func   string // printed for <dbg> lines (CONFIG_LOG_FUNC_NAME_PREFIX_DBG, default y)
	Format string
}

// Every line the persona prints, written once, with its source. Sources:
//
//	[S main.c]   sdk-nrf samples/net/azure_iot_hub/src/main.c
//	[S hub.c]    sdk-nrf subsys/net/lib/azure_iot_hub/src/azure_iot_hub.c
//	[S dps.c]    sdk-nrf subsys/net/lib/azure_iot_hub/src/azure_iot_hub_dps.c
//	[S helper.c] sdk-nrf subsys/net/lib/mqtt_helper/mqtt_helper.c
//	[T]          the forum logs in shared/forum (nrf91-*.txt, nrf7002dk-azure-certificates.txt)
//	[I]          inferred (azure_fota is not read; its lines are the forum's)
var (
	// Sample [S main.c]
	mStarted          = Msg{ModSample, LevelInf, "", "Azure IoT Hub sample started"}
	mBringingUp       = Msg{ModSample, LevelInf, "", "Bringing network interface up and connecting to the network"}
	mIfUpFailed       = Msg{ModSample, LevelErr, "", "conn_mgr_if_connect, error: %d"}
	mDeviceID         = Msg{ModSample, LevelInf, "", "Device ID: %s"}
	mHostName         = Msg{ModSample, LevelInf, "", "Host name: %s"}
	mL4Up             = Msg{ModSample, LevelInf, "", "Network connectivity established and IP address assigned"}
	mL4Down           = Msg{ModSample, LevelInf, "", "Network connectivity lost, no IP address assigned"}
	mFatalConn        = Msg{ModSample, LevelErr, "", "Fatal error received from the connectivity layer, rebooting"}
	mConnected        = Msg{ModSample, LevelInf, "", "Connected to network"}
	mStartingDPS      = Msg{ModSample, LevelInf, "", "Starting DPS"}
	mDPSInitFailed    = Msg{ModSample, LevelErr, "", "azure_iot_hub_dps_init failed, error: %d"}
	mDPSStarted       = Msg{ModSample, LevelInf, "", "The DPS process has started, timeout is set to %d seconds"}
	mDPSAlready       = Msg{ModSample, LevelInf, "", "Already assigned to an IoT hub, skipping DPS"}
	mDPSStartFailed   = Msg{ModSample, LevelErr, "", "DPS failed to start, error: %d"}
	mDPSStatus        = Msg{ModSample, LevelInf, "", "DPS registration status: %s"}
	mDPSAssigned      = Msg{ModSample, LevelInf, "", "Device ID \"%s\" assigned to IoT hub with hostname \"%s\""}
	mDPSRunFailed     = Msg{ModSample, LevelErr, "", "Failed to run DPS, error: %d, terminating connection attempt"}
	mLibInit          = Msg{ModSample, LevelInf, "", "Azure IoT Hub library initialized"}
	mConnectFailed    = Msg{ModSample, LevelErr, "", "azure_iot_hub_connect failed: %d"}
	mConnReqSent      = Msg{ModSample, LevelInf, "", "Connection request sent to IoT Hub"}
	mEvt              = Msg{ModSample, LevelInf, "", "%s"} // AZURE_IOT_HUB_EVT_* names
	mEvtErrCode       = Msg{ModSample, LevelInf, "", "Error code received from IoT Hub: %d"}
	mReceivedPayload  = Msg{ModSample, LevelInf, "", "Received payload: %s"}
	mTwinResultOK     = Msg{ModSample, LevelInf, "", "AZURE_IOT_HUB_EVT_TWIN_RESULT_SUCCESS, ID: %s"}
	mTwinResultFail   = Msg{ModSample, LevelInf, "", "AZURE_IOT_HUB_EVT_TWIN_RESULT_FAIL, ID %s, status %d"}
	mMethodName       = Msg{ModSample, LevelInf, "", "Method name: %s"}
	mMethodPayload    = Msg{ModSample, LevelInf, "", "Payload: %s"}
	mUnknownMethod    = Msg{ModSample, LevelInf, "", "Unknown direct method"}
	mNoLED            = Msg{ModSample, LevelInf, "", "No hardware interface to set LED state to %d"}
	mMethodRespFailed = Msg{ModSample, LevelErr, "", "Failed to send direct method response"}
	mSendingEvent     = Msg{ModSample, LevelInf, "", "Sending event:%s"}
	mSendFailed       = Msg{ModSample, LevelErr, "", "Failed to send event"}
	mEventSent        = Msg{ModSample, LevelInf, "", "Event was successfully sent"}
	mNextEvent        = Msg{ModSample, LevelInf, "", "Next event will be sent in %d seconds"}
	mParseProps       = Msg{ModSample, LevelErr, "", "Could not parse properties object"}
	mNoInterval       = Msg{ModSample, LevelInf, "", "No 'telemetryInterval' object in the device twin"}
	mBadInterval      = Msg{ModSample, LevelWrn, "", "Invalid telemetry interval format received"}
	mRecvBusy         = Msg{ModSample, LevelWrn, "", "Recv buffer is busy, data was not copied"}
	mTooBig           = Msg{ModSample, LevelErr, "", "Incoming data too big for buffer"}
	mReportFailed     = Msg{ModSample, LevelErr, "", "Failed to send twin report"}
	mIntervalApplied  = Msg{ModSample, LevelInf, "", "New telemetry interval has been applied: %d"}

	// azure_iot_hub [S hub.c]
	mHubState         = Msg{ModHub, LevelDbg, "iot_hub_state_set", "State transition: %s --> %s"}
	mHubSameState     = Msg{ModHub, LevelDbg, "iot_hub_state_set", "Skipping transition to the same state (%s)"}
	mHubFOTAInit      = Msg{ModHub, LevelDbg, "azure_iot_hub_init", "Azure FOTA initialized"}
	mHubUserName      = Msg{ModHub, LevelDbg, "azure_iot_hub_connect", "User name: %s"}
	mHubUserNameSize  = Msg{ModHub, LevelDbg, "azure_iot_hub_connect", "User name buffer size is %d, actual user name size is: %d"}
	mHubHelperConnErr = Msg{ModHub, LevelErr, "", "mqtt_helper_connect failed, error: %d"}
	mHubRejected      = Msg{ModHub, LevelErr, "", "Connection was rejected with return code %d"}
	mHubCertValid     = Msg{ModHub, LevelWrn, "", "Is the device certificate valid?"}
	mHubConnack       = Msg{ModHub, LevelDbg, "on_connack", "MQTT mqtt_client connected"}
	mHubSubscribed    = Msg{ModHub, LevelDbg, "topic_subscribe", "Successfully subscribed to default topics"}
	mHubSubFailed     = Msg{ModHub, LevelErr, "", "Failed to subscribe to topic list, error: %d"}
	mHubDisconnect    = Msg{ModHub, LevelWrn, "", "DISCONNECT, result: %d"}
	mHubRequestID     = Msg{ModHub, LevelDbg, "request_id_create_and_get", "Request ID not specified, using \"%s\""}
	mHubTwinRequested = Msg{ModHub, LevelDbg, "device_twin_request", "Device twin requested"}
	mHubTwinReqFailed = Msg{ModHub, LevelErr, "", "Failed to send device twin request, error: %d"}
	mHubMsgType       = Msg{ModHub, LevelDbg, "on_publish", "Message type: %s"}
	mHubTwinData      = Msg{ModHub, LevelDbg, "on_publish", "Device twin data received"}
	mHubTwinReqID     = Msg{ModHub, LevelDbg, "device_twin_result_process", "Request ID: %s"}
	mHubTwinFailed    = Msg{ModHub, LevelDbg, "device_twin_result_process", "Failed twin request, status code: %d"}
	mHubUnknownTopic  = Msg{ModHub, LevelErr, "", "Unrecognized topic: %s"}
	mHubNoMethodName  = Msg{ModHub, LevelWrn, "", "No direct method name, event will not be notified"}
	mHubNoRequestID   = Msg{ModHub, LevelWrn, "", "No request ID, direct method processing aborted"}
	mHubUnhandledMeth = Msg{ModHub, LevelWrn, "", "Unhandled direct method invocation"}
	mHubNotConnected  = Msg{ModHub, LevelWrn, "", "Azure IoT Hub is not connected"}
	mHubFOTAReport    = Msg{ModHub, LevelDbg, "fota_evt_handler", "AZURE_FOTA_EVT_REPORT"}
	mHubFOTASent      = Msg{ModHub, LevelDbg, "fota_report_send", "FOTA report sent"}

	// azure_iot_hub_dps [S dps.c]
	mDPSRegIDZero    = Msg{ModDPS, LevelErr, "", "Registration ID length is zero, DPS cannot proceed"}
	mDPSScopeZero    = Msg{ModDPS, LevelErr, "", "ID scope length is zero, DPS cannot proceed"}
	mDPSHelperErr    = Msg{ModDPS, LevelErr, "", "mqtt_helper_connect failed, error: %d"}
	mDPSRejected     = Msg{ModDPS, LevelErr, "", "Connection was rejected with return code %d"}
	mDPSCertValid    = Msg{ModDPS, LevelWrn, "", "Is the device certificate valid?"}
	mDPSNoGraceful   = Msg{ModDPS, LevelErr, "", "Failed to disconnect gracefully, error: %d"}
	mDPSStopped      = Msg{ModDPS, LevelErr, "", "There was a failure during DPS registration, process is stopped"}
	mDPSNotAssigned  = Msg{ModDPS, LevelErr, "", "The device was not assigned to hub"}
	mDPSNoHub        = Msg{ModDPS, LevelErr, "", "The registration was not successful, no IoT Hub was assigned"}
	mDPSNonRetriable = Msg{ModDPS, LevelWrn, "", "The status code %d indicates a non-retriable error"}
	mDPSNotResponse  = Msg{ModDPS, LevelWrn, "", "The incoming message was not a registration response message"}
	mDPSMaxRetries   = Msg{ModDPS, LevelErr, "", "DPS retry max count (%d) exceeded, disconnecting"}
	mDPSTimeout      = Msg{ModDPS, LevelErr, "", "A timeout occurred, the registration process is terminated"}
	mDPSSubFailed    = Msg{ModDPS, LevelErr, "", "Failed to subscribe to topic list, error: %d"}
	mDPSSendFailed   = Msg{ModDPS, LevelErr, "", "Failed to send DPS registration request, error: %d"}
	mDPSStatusFailed = Msg{ModDPS, LevelErr, "", "Failed to send status request, err: %d"}
	mDPSOpTooLong    = Msg{ModDPS, LevelErr, "", "Operation ID is too large for the buffer, aborting DPS registration"}
	mDPSSaveFailed   = Msg{ModDPS, LevelErr, "", "Failed to save hostname to flash, error: %d"}
	mDPSState        = Msg{ModDPS, LevelDbg, "dps_state_set", "State transition: %s --> %s"}
	mDPSUserName     = Msg{ModDPS, LevelDbg, "provisioning_client_init", "User name (size: %d): %s"}
	mDPSPublishReg   = Msg{ModDPS, LevelDbg, "dps_send_reg_request", "Publishing to DPS registration topic: %s, no payload"}
	mDPSStatusCode   = Msg{ModDPS, LevelDbg, "handle_reg_update", "Status code is %d"}
	mDPSOperationID  = Msg{ModDPS, LevelDbg, "handle_reg_update", "Operation ID: %s"}
	mDPSRetryValue   = Msg{ModDPS, LevelDbg, "handle_reg_update", "Received retry value: %d"}
	mDPSRetryDefault = Msg{ModDPS, LevelDbg, "handle_reg_update", "No retry time found, using default value of %d"}
	mDPSErrMessage   = Msg{ModDPS, LevelDbg, "dps_is_assigned", "Error message: %s "}
	mDPSExtErr       = Msg{ModDPS, LevelDbg, "dps_is_assigned", "Extended error code: %d"}
	mDPSAssignedTo   = Msg{ModDPS, LevelDbg, "azure_iot_hub_dps_start", "Device \"%s\" is assigned to IoT hub: %s"}

	// mqtt_helper [S helper.c]
	mHelperConnect     = Msg{ModHelper, LevelErr, "", "mqtt_connect, error: %d"}
	mHelperGetaddrinfo = Msg{ModHelper, LevelErr, "", "getaddrinfo() failed, error %d"}
	mHelperWrongState  = Msg{ModHelper, LevelErr, "", "Library is in the wrong state (%s), %s required"}
	mHelperInput       = Msg{ModHelper, LevelErr, "", "Cloud MQTT input error: %d"}
	mHelperEvtDisc     = Msg{ModHelper, LevelDbg, "mqtt_evt_handler", "MQTT_EVT_DISCONNECT: result = %d"}
	mHelperState       = Msg{ModHelper, LevelDbg, "mqtt_state_set", "State transition: %s --> %s"}
	mHelperResolving   = Msg{ModHelper, LevelDbg, "broker_init", "Resolving IP address for %s"}
	mHelperReqSent     = Msg{ModHelper, LevelDbg, "mqtt_helper_connect", "MQTT connection request sent"}

	// The nRF7002 DK's Wi-Fi [T forum/nrf7002dk-*.txt: wifi_mgmt_ext and
	// net_dhcpv4 lines; S wpa_supplicant's CTRL-EVENT texts; I that they
	// are logged under wpa_supp at info level and when wifi_mgmt_ext has
	// no credentials].
	mWiFiRequested   = Msg{ModWiFi, LevelInf, "", "Connection requested"}
	mWiFiNoCreds     = Msg{ModWiFi, LevelErr, "", "No stored credentials found"}
	mDHCPReceived    = Msg{ModDHCP, LevelInf, "", "Received: %s"}
	mWPATempDisabled = Msg{ModWPA, LevelInf, "", "wlan0: CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid=\"%s\" auth_failures=%d duration=%d reason=%s"}
	mWPANotFound     = Msg{ModWPA, LevelInf, "", "wlan0: CTRL-EVENT-NETWORK-NOT-FOUND"}

	// Zephyr's native TLS sockets [S zephyr subsys/net/lib/sockets/sockets_tls.c;
	// nrf91.md §9]; printed only with CONFIG_NET_LOG.
	mTLSParseCA   = Msg{ModSockTLS, LevelErr, "", "Failed to parse CA certificate, err: -0x%x"}
	mTLSHandshake = Msg{ModSockTLS, LevelErr, "", "TLS handshake error: -0x%x"}

	// mqtt_helper's certificates_provision [S helper.c, NCS v2.5]
	mHelperProvision = Msg{ModHelper, LevelErr, "", "Could not provision certificates, error: %d"}
	mHelperExists    = Msg{ModHelper, LevelDbg, "certificates_provision", "%s already exists, sec tag: %d"}
	mHelperRegister  = Msg{ModHelper, LevelErr, "", "Failed to register %s: %d"}

	// azure_fota [T forum logs; I which conditions]
	mFOTAVersion = Msg{ModFOTA, LevelInf, "", "Current firmware version: %s"}
	mFOTANoJob   = Msg{ModFOTA, LevelWrn, "", "No job ID found"}
)

// DPS registration statuses as the sample prints them [S main.c dps_handler].
const (
	regNotStarted = "AZURE_IOT_HUB_DPS_REG_STATUS_NOT_STARTED"
	regAssigning  = "AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNING"
	regAssigned   = "AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED"
	regFailed     = "AZURE_IOT_HUB_DPS_REG_STATUS_FAILED"
)

// mqtt_helper states [S helper.c state_name_get].
const (
	stUninit       = "MQTT_STATE_UNINIT"
	stDisconnected = "MQTT_STATE_DISCONNECTED"
	stConnected    = "MQTT_STATE_CONNECTED"
)

// Numbers the libraries return, in Zephyr's errno numbering
// [S zephyr lib/libc/minimal/include/errno.h].
const (
	errEIO        = -5   // what the simulation reports where the source gives no number [I]
	errEFAULT     = -14  // dps_run: !dps_was_successful; DPS init failures
	errEOPNOTSUPP = -95  // mqtt_helper_disconnect in the wrong state [T D1 "-95"]
	errENOTCONN   = -128 // mqtt_input when the peer closed the socket [I zephyr mqtt_transport read() == 0]
	errECONNREF   = -111 // CONNACK refusal → MQTT_EVT_DISCONNECT/mqtt_input [T W3, D1]
)

// Library constants [S sdk-nrf azure_iot_hub_dps_private.h].
const (
	dpsMaxRetries          = 10 // AZURE_IOT_HUB_DPS_REG_STATUS_UPDATE_MAX_RETRIES
	dpsRetryAfterDefault   = 20 // RETRY_AFTER_SEC_DEFAULT, seconds
	dpsOperationIDBufSize  = 68 // CONFIG_AZURE_IOT_HUB_DPS_OPERATION_ID_BUFFER_SIZE default
	userNameBufSize        = 160
	recvBufSize            = 1024 // main.c RECV_BUF_SIZE
	defaultEventIntervalS  = 20   // main.c EVENT_INTERVAL
	firmwareVersionDefault = "0.0.0-dev"
)

// Topics and names [S azure-sdk-for-c az_iot_hub_client.h, az_iot_provisioning_client.h; azure-iot-hub.md §1.6, §2.2].
const (
	topicC2DSub       = "devices/+/messages/devicebound/#"
	topicMethodsSub   = "$iothub/methods/POST/#"
	topicDesiredSub   = "$iothub/twin/PATCH/properties/desired/#"
	topicTwinResSub   = "$iothub/twin/res/#"
	topicDPSSub       = "$dps/registrations/res/#"
	topicDPSRegister  = "$dps/registrations/PUT/iotdps-register/?$rid=1"
	topicDPSStatusFmt = "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1&operationId=%s"
	hubAPIVersion     = "2020-09-30"
	dpsAPIVersion     = "2019-03-31"
)
