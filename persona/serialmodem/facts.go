package serialmodem

import "time"

// Every string and number this persona takes from the Serial Modem firmware,
// with its source. [S] = read in nrfconnect/ncs-serial-modem (HEAD e23c2bd),
// app/src/<file>; [I] = inferred, and then a Config setting where it matters.
const (
	// sm_defines.h: SM_SYNC_STR, OK_STR, ERROR_STR, CRLF_STR [S].
	bannerReady = "Ready\r\n"
	crlf        = "\r\n"
	okFinal     = "\r\nOK\r\n"
	errorFinal  = "\r\nERROR\r\n"

	// sm_at_host.c AT_BUF_MAX_SIZE: the command buffer grows from 128 to
	// 8192 bytes; a longer command answers ERROR (`AT command buffer
	// overflow`) [S]. Overflow is detected at at_cmd_len >= size-2 [S].
	maxCommandLen = 8192 - 2
	// Kconfig SM_AT_ECHO_MAX_LEN default 4096: longer echoes are cut [S].
	echoMaxLen = 4096

	// Kconfig SM_DATAMODE_TERMINATOR default "+++" [S]; exit_datamode
	// prints "\r\n#XDATAMODE: %d\r\n" with 0, or -1 after a handler
	// error [S sm_at_host.c].
	dataModeTerminator = "+++"
	dataModeExitOK     = "#XDATAMODE: 0"
	dataModeExitError  = "#XDATAMODE: -1"
	// Kconfig SM_DATAMODE_BUF_SIZE default 4096: more data than this
	// before a send is an overflow (`Data mode buffer overflow`, exit with
	// -EOVERFLOW) in MQTT data mode [S sm_at_mqtt.c mqtt_datamode_callback].
	dataModeBufSize = 4096

	// sm_at_mqtt.c [S]: SM_DEFAULT_CID; CONFIG_MQTT_KEEPALIVE (Zephyr
	// default 60 s); CONFIG_MQTT_CLEAN_SESSION=y in app/prj.conf (the
	// protocol note says 0; prj.conf wins).
	defaultClientID     = "sm_default_client_id"
	defaultKeepAlive    = 60
	defaultCleanSession = 1
	maxClientIDLen      = 64  // MQTT_MAX_CID_LEN
	maxTopicLen         = 128 // MQTT_MAX_TOPIC_LEN
	maxURLLen           = 128 // SM_MAX_URL (sm_defines.h)
	// SM_MAX_USERNAME and SM_MAX_PASSWORD are 32 in the stock build
	// (sm_defines.h [S]; util_string_get fails with -ENOMEM beyond): too
	// short for an IoT Hub user name (<hub>/<device>/?api-version=…) or a
	// SAS token. The simulated default is a build that raised them
	// (Config.MaxUsername/MaxPassword; 32 gives the stock firmware) [I].
	defaultMaxLogin = 512

	// #XMQTTCON ops (enum sm_mqttcon_operation) [S].
	mqttDisconnect = 0
	mqttConnect    = 1
	mqttConnect6   = 2

	// Test-form answers, verbatim [S sm_at_mqtt.c].
	mqttcfgTest   = "#XMQTTCFG: <client_id>,<keep_alive>,<clean_session>"
	mqttconTest   = "#XMQTTCON: (0,1,2),<username>,<password>,<url>,<port>,<sec_tag>"
	mqttpubTest   = "#XMQTTPUB: <topic>,<msg>,(0,1,2),(0,1)"
	mqttsubTest   = "#XMQTTSUB: <topic>,(0,1,2)"
	mqttunsubTest = "#XMQTTUNSUB: <topic>"

	// sm_at_socket.c [S]: SM_MAX_SOCKET_COUNT = NRF_MODEM_MAX_SOCKET_COUNT (8);
	// SM_MAX_MESSAGE_SIZE 2048 bounds #XRECV; proto numbers IPPROTO_TCP 6,
	// IPPROTO_TLS_1_2 258; family AF_INET 1, AF_INET6 2; type SOCK_STREAM 1;
	// role client 0; #XSEND result_type AT_SOCKET_SEND_RESULT_DEFAULT 0 [I];
	// #XSEND/#XRECV modes 0 string, 1 hex.
	maxSockets      = 8
	maxRecvLen      = 2048
	protoTCP        = 6
	protoTLS12      = 258
	familyIPv4      = 1
	familyIPv6      = 2
	sockStream      = 1
	roleClient      = 0
	sendResultPlain = 0
	modeString      = 0
	modeHex         = 1
	// sm_sockopt.h enum at_sec_sockopt [S].
	secOptHostname     = 2
	secOptCipherUsed   = 4
	secOptPeerVerify   = 5
	secOptSessionCache = 12
	// sec_sockopt_set: TLS_HOSTNAME "NULL" clears the name [S].
	hostnameNull = "NULL"

	// #XGETADDRINFO: "\r\n#XGETADDRINFO: \"<addr> <addr>\"\r\n", on failure
	// the zsock_gai_strerror text ("EAI_NONAME", Zephyr's ERR(e) macro
	// returns the constant's name [S/I]) [S sm_at_socket.c].
	getaddrinfoPrefix = "#XGETADDRINFO: "

	// sm_at_icmp.c [S]: "#XPING: %d.%03d seconds\r\n" and
	// "#XPING: average %d.%03d seconds\r\n" — sent WITHOUT the leading CRLF
	// every other URC has; defaults count 1, interval 1000 ms.
	pingURC          = "#XPING: "
	pingDefaultCount = 1
	pingDefaultGapMS = 1000
)

// Information lines, as the handlers rsp_send them (the CRLFs around each
// are the framing's) [S sm_at_mqtt.c, sm_at_socket.c].
const (
	fmtMQTTEvent      = "#XMQTTEVT: %d,%d"
	fmtMQTTCfgRead    = `#XMQTTCFG: "%s",%d,%d`
	fmtMQTTConReadTLS = `#XMQTTCON: 1,"%s","%s",%d,%d`
	fmtMQTTConRead    = `#XMQTTCON: 1,"%s","%s",%d`
	mqttConReadIdle   = "#XMQTTCON: 0"
	// handle_mqtt_publish_evt: "\r\n#XMQTTMSG: %d,%d\r\n", topic, "\r\n",
	// payload, "\r\n" (the outer CRLFs are the URC framing).
	fmtMQTTMsg       = "#XMQTTMSG: %d,%d\r\n%s\r\n%s"
	fmtSocket        = "#XSOCKET: %d,%d,%d"
	fmtSecureSocket  = "#XSSOCKET: %d,%d,%d"
	secSockoptTest   = "#XSSOCKETOPT: <handle>,(0,1),<name>,<value>"
	fmtSecSockoptStr = "#XSSOCKETOPT: %d,%s"
	fmtSecSockoptInt = "#XSSOCKETOPT: %d,%d"
	fmtSecSockoptHex = "#XSSOCKETOPT: %d,0x%x"
	fmtConnect       = "#XCONNECT: %d,1"
	fmtSend          = "#XSEND: %d,%d,%d"
	// do_recv: "\r\n#XRECV: %d,%d,%d\r\n" then the data, raw or hex.
	fmtRecv = "#XRECV: %d,%d,%d"
	// do_socket_close: zsock_close's result, 0 here.
	fmtClose            = "#XCLOSE: %d,0"
	getaddrinfoNotFound = "not found"
	// #XSSOCKET peer_verify default ZSOCK_TLS_PEER_VERIFY_REQUIRED.
	peerVerifyRequired = 2
)

// MQTT event types, Zephyr enum mqtt_evt_type, printed as
// "\r\n#XMQTTEVT: %d,%d\r\n" [S sm_at_mqtt.c mqtt_evt_handler, zephyr mqtt.h].
const (
	evtConnack    = 0
	evtDisconnect = 1
	evtPublish    = 2
	evtPuback     = 3
	evtPubrec     = 4
	evtPubrel     = 5
	evtPubcomp    = 6
	evtSuback     = 7
	evtUnsuback   = 8
)

// Zephyr errno values the handlers fail with; the firmware only logs them
// (`AT command failed`) and the host sees ERROR [S zephyr errno.h].
const (
	errInval   errno = -22  // EINVAL
	errAgain   errno = -11  // EAGAIN
	errNotConn errno = -128 // ENOTCONN
	errIsConn  errno = -127 // EISCONN
	errNoBufs  errno = -105 // ENOBUFS
	errNotSup  errno = -134 // ENOTSUP
	errNoEnt   errno = -2   // ENOENT
)

// Zephyr errno values the persona prints itself (the network errors come
// from netstack/errmap) [S zephyr lib/libc/minimal/include/errno.h].
const (
	// ENOTCONN: Zephyr's MQTT client reads 0 bytes when the broker closes
	// the socket and disconnects with -ENOTCONN (MQTT_EVT_DISCONNECT
	// result) [S zephyr subsys/net/lib/mqtt/mqtt.c client_read; I that
	// the modem socket reports the close that way].
	errnoNotConn = -128
)

// StockLoginLimit is SM_MAX_USERNAME and SM_MAX_PASSWORD of the stock
// firmware (sm_defines.h [S]): Config.MaxUsername/MaxPassword = 32.
const StockLoginLimit = 32

// dataModeIdle is the data-mode inactivity send of a 115200-baud UART:
// CONFIG_SM_UART_RX_BUF_SIZE (256) × 10 bits × 1000 / 115200 + 10 ms margin
// = 32 ms [S sm_at_host.c get_min_data_mode_idle_timeout_ms, Kconfig].
const dataModeIdle = 32 * time.Millisecond

// unprefixedURCs are the URC prefixes the firmware sends without the
// leading CRLF (urc_send_to(pipe, "#XPING: …\r\n")) [S sm_at_icmp.c].
var unprefixedURCs = []string{pingURC}
