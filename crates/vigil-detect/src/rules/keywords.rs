//! Every rule keyword Suricata (5.0 to 8.0) knows, with how it takes a value and, for buffer
//! keywords, the canonical buffer name. A keyword not in this table is a parse error ("unknown
//! keyword"), as it is for Suricata; a keyword in it that Vigil cannot execute only makes the rule
//! non-executable (see [`super::support`]).
//!
//! Lookup is case-insensitive like Suricata's (callers pass the lower-cased keyword).

/// How a keyword takes its value and what it does to buffer selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `keyword:value;` (a value is required).
    Value,
    /// `keyword;` (a value is an error).
    NoValue,
    /// Either form.
    OptValue,
    /// A sticky buffer (no value): later payload keywords inspect this buffer.
    Sticky(&'static str),
    /// A legacy content modifier (no value): moves the preceding payload content into the
    /// buffer.
    Modifier(&'static str),
    /// A transform without value.
    Transform,
    /// A transform whose value is optional or required (`pcrexform`, `xor`, `from_base64`).
    TransformValue,
}

/// The keyword's canonical (primary) name and kind, for a lower-cased keyword or alias.
pub fn lookup(kw: &str) -> Option<(&'static str, Kind)> {
    use Kind::*;
    let r = match kw {
        // Meta.
        "msg" => ("msg", Value),
        "sid" => ("sid", Value),
        "rev" => ("rev", Value),
        "gid" => ("gid", Value),
        "classtype" => ("classtype", Value),
        "priority" => ("priority", Value),
        "reference" => ("reference", Value),
        "metadata" => ("metadata", Value),
        "target" => ("target", Value),
        "requires" => ("requires", Value),
        "config" => ("config", Value),
        "noalert" => ("noalert", NoValue),
        "alert" => ("alert", NoValue),
        "tag" => ("tag", Value),

        // Payload.
        "content" => ("content", Value),
        "uricontent" => ("uricontent", Value),
        "pcre" => ("pcre", Value),
        "nocase" => ("nocase", NoValue),
        "depth" => ("depth", Value),
        "offset" => ("offset", Value),
        "distance" => ("distance", Value),
        "within" => ("within", Value),
        "startswith" => ("startswith", NoValue),
        "endswith" => ("endswith", NoValue),
        "rawbytes" => ("rawbytes", NoValue),
        "fast_pattern" => ("fast_pattern", OptValue),
        "prefilter" => ("prefilter", NoValue),
        "bsize" => ("bsize", Value),
        "dsize" => ("dsize", Value),
        "isdataat" => ("isdataat", Value),
        "byte_test" => ("byte_test", Value),
        "byte_jump" => ("byte_jump", Value),
        "byte_extract" => ("byte_extract", Value),
        "byte_math" => ("byte_math", Value),
        "replace" => ("replace", Value),
        "rpc" => ("rpc", Value),
        "absent" => ("absent", OptValue),
        "entropy" => ("entropy", Value),
        "base64_decode" => ("base64_decode", OptValue),
        "base64_data" => ("base64_data", Sticky("base64_data")),
        "asn1" => ("asn1", Value),
        "lua" | "luajit" => ("lua", Value),
        "dataset" => ("dataset", Value),
        "datarep" => ("datarep", Value),
        "urilen" => ("urilen", Value),
        "pkt_data" => ("pkt_data", Sticky("pkt_data")),

        // Flow and state.
        "flow" => ("flow", Value),
        "flowbits" => ("flowbits", Value),
        "flowint" => ("flowint", Value),
        "flowvar" => ("flowvar", Value),
        "pktvar" => ("pktvar", Value),
        "hostbits" => ("hostbits", Value),
        "xbits" => ("xbits", Value),
        "stream_size" => ("stream_size", Value),
        "flow.age" => ("flow.age", Value),
        "flow.pkts" => ("flow.pkts", Value),
        "flow.pkts_toserver" => ("flow.pkts_toserver", Value),
        "flow.pkts_toclient" => ("flow.pkts_toclient", Value),
        "flow.bytes" => ("flow.bytes", Value),
        "flow.bytes_toserver" => ("flow.bytes_toserver", Value),
        "flow.bytes_toclient" => ("flow.bytes_toclient", Value),
        "threshold" => ("threshold", Value),
        "detection_filter" => ("detection_filter", Value),
        "iprep" => ("iprep", Value),
        "bypass" => ("bypass", NoValue),

        // Packet header.
        "ttl" => ("ttl", Value),
        "ipopts" => ("ipopts", Value),
        "fragbits" => ("fragbits", Value),
        "fragoffset" => ("fragoffset", Value),
        "tos" => ("tos", Value),
        "id" => ("id", Value),
        "ip_proto" => ("ip_proto", Value),
        "sameip" => ("sameip", NoValue),
        "geoip" => ("geoip", Value),
        "tcp.flags" | "flags" => ("tcp.flags", Value),
        "tcp.seq" | "seq" => ("tcp.seq", Value),
        "tcp.ack" | "ack" => ("tcp.ack", Value),
        "tcp.window" | "window" => ("tcp.window", Value),
        "tcp.mss" => ("tcp.mss", Value),
        "tcp.wscale" => ("tcp.wscale", Value),
        "itype" => ("itype", Value),
        "icode" => ("icode", Value),
        "icmp_id" => ("icmp_id", Value),
        "icmp_seq" => ("icmp_seq", Value),
        "icmpv6.mtu" => ("icmpv6.mtu", Value),
        "ipv4.hdr" => ("ipv4.hdr", Sticky("ipv4.hdr")),
        "ipv6.hdr" => ("ipv6.hdr", Sticky("ipv6.hdr")),
        "tcp.hdr" => ("tcp.hdr", Sticky("tcp.hdr")),
        "udp.hdr" => ("udp.hdr", Sticky("udp.hdr")),
        "icmpv4.hdr" => ("icmpv4.hdr", Sticky("icmpv4.hdr")),
        "icmpv6.hdr" => ("icmpv6.hdr", Sticky("icmpv6.hdr")),
        "ip.src" => ("ip.src", Sticky("ip.src")),
        "ip.dst" => ("ip.dst", Sticky("ip.dst")),
        "l3_proto" => ("l3_proto", Value),
        "vlan.id" => ("vlan.id", Value),
        "vlan.layers" => ("vlan.layers", Value),
        "ipv4-csum" => ("ipv4-csum", Value),
        "tcpv4-csum" => ("tcpv4-csum", Value),
        "tcpv6-csum" => ("tcpv6-csum", Value),
        "udpv4-csum" => ("udpv4-csum", Value),
        "udpv6-csum" => ("udpv6-csum", Value),
        "icmpv4-csum" => ("icmpv4-csum", Value),
        "icmpv6-csum" => ("icmpv6-csum", Value),
        "decode-event" => ("decode-event", Value),
        "engine-event" => ("engine-event", Value),
        "stream-event" => ("stream-event", Value),
        "app-layer-event" => ("app-layer-event", Value),
        "app-layer-protocol" => ("app-layer-protocol", Value),
        "app-layer-state" => ("app-layer-state", Value),
        "frame" => ("frame", Value),
        "nfq_set_mark" => ("nfq_set_mark", Value),

        // Transforms.
        "dotprefix" => ("dotprefix", Transform),
        "strip_whitespace" => ("strip_whitespace", Transform),
        "compress_whitespace" => ("compress_whitespace", Transform),
        "to_lowercase" => ("to_lowercase", Transform),
        "to_uppercase" => ("to_uppercase", Transform),
        "to_md5" => ("to_md5", Transform),
        "to_sha1" => ("to_sha1", Transform),
        "to_sha256" => ("to_sha256", Transform),
        "url_decode" => ("url_decode", Transform),
        "header_lowercase" => ("header_lowercase", Transform),
        "strip_pseudo_headers" => ("strip_pseudo_headers", Transform),
        "domain" => ("domain", Transform),
        "tld" => ("tld", Transform),
        "pcrexform" => ("pcrexform", TransformValue),
        "xor" => ("xor", TransformValue),
        "from_base64" => ("from_base64", TransformValue),
        "luaxform" => ("luaxform", TransformValue),
        "gunzip" => ("gunzip", TransformValue),
        "zlib_deflate" => ("zlib_deflate", TransformValue),
        "subslice" => ("subslice", TransformValue),

        // HTTP sticky buffers.
        "http.uri" => ("http.uri", Sticky("http.uri")),
        "http.uri.raw" => ("http.uri.raw", Sticky("http.uri.raw")),
        "http.method" => ("http.method", Sticky("http.method")),
        "http.host" => ("http.host", Sticky("http.host")),
        "http.host.raw" => ("http.host.raw", Sticky("http.host.raw")),
        "http.user_agent" => ("http.user_agent", Sticky("http.user_agent")),
        "http.header" => ("http.header", Sticky("http.header")),
        "http.header.raw" => ("http.header.raw", Sticky("http.header.raw")),
        "http.cookie" => ("http.cookie", Sticky("http.cookie")),
        "http.request_body" => ("http.request_body", Sticky("http.request_body")),
        "http.response_body" => ("http.response_body", Sticky("http.response_body")),
        "http.stat_code" => ("http.stat_code", Sticky("http.stat_code")),
        "http.stat_msg" => ("http.stat_msg", Sticky("http.stat_msg")),
        "http.request_line" | "http_request_line" => {
            ("http.request_line", Sticky("http.request_line"))
        }
        "http.response_line" | "http_response_line" => {
            ("http.response_line", Sticky("http.response_line"))
        }
        "http.header_names" | "http_header_names" => {
            ("http.header_names", Sticky("http.header_names"))
        }
        "http.accept" | "http_accept" => ("http.accept", Sticky("http.accept")),
        "http.accept_enc" | "http_accept_enc" => ("http.accept_enc", Sticky("http.accept_enc")),
        "http.accept_lang" | "http_accept_lang" => ("http.accept_lang", Sticky("http.accept_lang")),
        "http.connection" | "http_connection" => ("http.connection", Sticky("http.connection")),
        "http.content_len" | "http_content_len" => ("http.content_len", Sticky("http.content_len")),
        "http.content_type" | "http_content_type" => {
            ("http.content_type", Sticky("http.content_type"))
        }
        "http.location" | "http_location" => ("http.location", Sticky("http.location")),
        "http.server" | "http_server" => ("http.server", Sticky("http.server")),
        "http.referer" | "http_referer" => ("http.referer", Sticky("http.referer")),
        "http.protocol" | "http_protocol" => ("http.protocol", Sticky("http.protocol")),
        "http.start" | "http_start" => ("http.start", Sticky("http.start")),
        "http.request_header" => ("http.request_header", Sticky("http.request_header")),
        "http.response_header" => ("http.response_header", Sticky("http.response_header")),
        "http2.header_name" => ("http2.header_name", Sticky("http2.header_name")),
        "http2.header" => ("http2.header", Sticky("http2.header")),
        "http2.frametype" => ("http2.frametype", Value),
        "http2.errorcode" => ("http2.errorcode", Value),
        "http2.priority" => ("http2.priority", Value),
        "http2.window" => ("http2.window", Value),
        "http2.size_update" => ("http2.size_update", Value),
        "http2.settings" => ("http2.settings", Value),

        // HTTP legacy content modifiers.
        "http_uri" => ("http_uri", Modifier("http.uri")),
        "http_raw_uri" => ("http_raw_uri", Modifier("http.uri.raw")),
        "http_method" => ("http_method", Modifier("http.method")),
        "http_header" => ("http_header", Modifier("http.header")),
        "http_raw_header" => ("http_raw_header", Modifier("http.header.raw")),
        "http_cookie" => ("http_cookie", Modifier("http.cookie")),
        "http_user_agent" => ("http_user_agent", Modifier("http.user_agent")),
        "http_host" => ("http_host", Modifier("http.host")),
        "http_raw_host" => ("http_raw_host", Modifier("http.host.raw")),
        "http_client_body" => ("http_client_body", Modifier("http.request_body")),
        "http_server_body" => ("http_server_body", Modifier("http.response_body")),
        "http_stat_code" => ("http_stat_code", Modifier("http.stat_code")),
        "http_stat_msg" => ("http_stat_msg", Modifier("http.stat_msg")),

        // Files.
        "file.data" | "file_data" => ("file.data", Sticky("file.data")),
        "file.name" | "file_name" => ("file.name", Sticky("file.name")),
        "file.magic" => ("file.magic", Sticky("file.magic")),
        "filename" => ("filename", Value),
        "fileext" => ("fileext", Value),
        "filestore" => ("filestore", OptValue),
        "filemagic" => ("filemagic", Value),
        "filemd5" => ("filemd5", Value),
        "filesha1" => ("filesha1", Value),
        "filesha256" => ("filesha256", Value),
        "filesize" => ("filesize", Value),

        // DNS.
        "dns.query" | "dns_query" => ("dns.query", Sticky("dns.query")),
        "dns.opcode" => ("dns.opcode", Value),
        "dns.rcode" => ("dns.rcode", Value),
        "dns.rrtype" => ("dns.rrtype", Value),
        "dns.answer.name" => ("dns.answer.name", Sticky("dns.answer.name")),
        "dns.query.name" => ("dns.query.name", Sticky("dns.query.name")),
        "dns.queries.rrname" => ("dns.queries.rrname", Sticky("dns.queries.rrname")),
        "dns.answers.rrname" => ("dns.answers.rrname", Sticky("dns.answers.rrname")),
        "dns.additionals.rrname" => ("dns.additionals.rrname", Sticky("dns.additionals.rrname")),
        "dns.authorities.rrname" => ("dns.authorities.rrname", Sticky("dns.authorities.rrname")),
        "dns.response.rrname" => ("dns.response.rrname", Sticky("dns.response.rrname")),
        "mdns.queries.rrname" => ("mdns.queries.rrname", Sticky("mdns.queries.rrname")),
        "mdns.answers.rrname" => ("mdns.answers.rrname", Sticky("mdns.answers.rrname")),
        "mdns.additionals.rrname" => ("mdns.additionals.rrname", Sticky("mdns.additionals.rrname")),
        "mdns.authorities.rrname" => ("mdns.authorities.rrname", Sticky("mdns.authorities.rrname")),
        "mdns.response.rrname" => ("mdns.response.rrname", Sticky("mdns.response.rrname")),

        // TLS, JA3/JA4, QUIC.
        "tls.sni" | "tls_sni" => ("tls.sni", Sticky("tls.sni")),
        "tls.cert_subject" | "tls_cert_subject" => ("tls.cert_subject", Sticky("tls.cert_subject")),
        "tls.cert_issuer" | "tls_cert_issuer" => ("tls.cert_issuer", Sticky("tls.cert_issuer")),
        "tls.cert_serial" | "tls_cert_serial" => ("tls.cert_serial", Sticky("tls.cert_serial")),
        "tls.cert_fingerprint" | "tls_cert_fingerprint" => {
            ("tls.cert_fingerprint", Sticky("tls.cert_fingerprint"))
        }
        "tls.certs" => ("tls.certs", Sticky("tls.certs")),
        "tls.subjectaltname" => ("tls.subjectaltname", Sticky("tls.subjectaltname")),
        "tls.random" => ("tls.random", Sticky("tls.random")),
        "tls.random_time" => ("tls.random_time", Sticky("tls.random_time")),
        "tls.random_bytes" => ("tls.random_bytes", Sticky("tls.random_bytes")),
        "tls.alpn" => ("tls.alpn", Sticky("tls.alpn")),
        "tls.version" => ("tls.version", Value),
        "tls.subject" => ("tls.subject", Value),
        "tls.issuerdn" => ("tls.issuerdn", Value),
        "tls.fingerprint" => ("tls.fingerprint", Value),
        "tls.store" | "tls_store" => ("tls.store", NoValue),
        "tls_cert_notbefore" | "tls.cert_notbefore" => ("tls_cert_notbefore", Value),
        "tls_cert_notafter" | "tls.cert_notafter" => ("tls_cert_notafter", Value),
        "tls_cert_expired" | "tls.cert_expired" => ("tls_cert_expired", NoValue),
        "tls_cert_valid" | "tls.cert_valid" => ("tls_cert_valid", NoValue),
        "tls.cert_chain_len" => ("tls.cert_chain_len", Value),
        "ssl_version" => ("ssl_version", Value),
        "ssl_state" => ("ssl_state", Value),
        "ja3.hash" | "ja3_hash" => ("ja3.hash", Sticky("ja3.hash")),
        "ja3.string" | "ja3_string" => ("ja3.string", Sticky("ja3.string")),
        "ja3s.hash" => ("ja3s.hash", Sticky("ja3s.hash")),
        "ja3s.string" => ("ja3s.string", Sticky("ja3s.string")),
        "ja4.hash" => ("ja4.hash", Sticky("ja4.hash")),
        "quic.version" => ("quic.version", Sticky("quic.version")),
        "quic.sni" => ("quic.sni", Sticky("quic.sni")),
        "quic.ua" => ("quic.ua", Sticky("quic.ua")),
        "quic.cyu.hash" => ("quic.cyu.hash", Sticky("quic.cyu.hash")),
        "quic.cyu.string" => ("quic.cyu.string", Sticky("quic.cyu.string")),

        // SSH.
        "ssh.proto" | "ssh_proto" => ("ssh.proto", Sticky("ssh.proto")),
        "ssh.software" | "ssh_software" => ("ssh.software", Sticky("ssh.software")),
        "ssh.protoversion" => ("ssh.protoversion", Value),
        "ssh.softwareversion" => ("ssh.softwareversion", Value),
        "ssh.hassh" => ("ssh.hassh", Sticky("ssh.hassh")),
        "ssh.hassh.server" => ("ssh.hassh.server", Sticky("ssh.hassh.server")),
        "ssh.hassh.string" => ("ssh.hassh.string", Sticky("ssh.hassh.string")),
        "ssh.hassh.server.string" => ("ssh.hassh.server.string", Sticky("ssh.hassh.server.string")),

        // FTP.
        "ftpbounce" => ("ftpbounce", NoValue),
        "ftpdata_command" => ("ftpdata_command", Value),
        "ftp.dynamic_port" => ("ftp.dynamic_port", Value),
        "ftp.command" => ("ftp.command", Sticky("ftp.command")),
        "ftp.command_data" => ("ftp.command_data", Sticky("ftp.command_data")),
        "ftp.reply" => ("ftp.reply", Sticky("ftp.reply")),
        "ftp.mode" => ("ftp.mode", Value),
        "ftp.reply_received" => ("ftp.reply_received", Value),
        "ftp.completion_code" => ("ftp.completion_code", Sticky("ftp.completion_code")),

        // SMB, DCERPC.
        "smb.named_pipe" | "smb_named_pipe" => ("smb.named_pipe", Sticky("smb.named_pipe")),
        "smb.share" | "smb_share" => ("smb.share", Sticky("smb.share")),
        "smb.ntlmssp_user" => ("smb.ntlmssp_user", Sticky("smb.ntlmssp_user")),
        "smb.ntlmssp_domain" => ("smb.ntlmssp_domain", Sticky("smb.ntlmssp_domain")),
        "smb.version" => ("smb.version", Value),
        "dcerpc.iface" | "dce_iface" => ("dcerpc.iface", Value),
        "dcerpc.opnum" | "dce_opnum" => ("dcerpc.opnum", Value),
        "dcerpc.stub_data" | "dce_stub_data" => ("dcerpc.stub_data", Sticky("dcerpc.stub_data")),

        // Industrial protocols.
        "dnp3.data" | "dnp3_data" => ("dnp3.data", Sticky("dnp3.data")),
        "dnp3_func" | "dnp3.func" => ("dnp3_func", Value),
        "dnp3_ind" | "dnp3.ind" => ("dnp3_ind", Value),
        "dnp3_obj" | "dnp3.obj" => ("dnp3_obj", Value),
        "modbus" => ("modbus", Value),
        "cip_service" => ("cip_service", Value),
        "enip_command" => ("enip_command", Value),
        "enip.capabilities"
        | "enip.cip_attribute"
        | "enip.cip_class"
        | "enip.vendor_id"
        | "enip.status"
        | "enip.state"
        | "enip.serial"
        | "enip.revision"
        | "enip.protocol_version"
        | "enip.product_code"
        | "enip.identity_status"
        | "enip.device_type"
        | "enip.cip_status"
        | "enip.cip_instance"
        | "enip.cip_extendedstatus" => (static_name(kw), Value),
        "enip.product_name" => ("enip.product_name", Sticky("enip.product_name")),
        "enip.service_name" => ("enip.service_name", Sticky("enip.service_name")),

        // Kerberos, NFS, SNMP, DHCP, RFB, WebSocket.
        "krb5_err_code" => ("krb5_err_code", Value),
        "krb5_msg_type" => ("krb5_msg_type", Value),
        "krb5.cname" => ("krb5.cname", Sticky("krb5.cname")),
        "krb5.sname" => ("krb5.sname", Sticky("krb5.sname")),
        "krb5.ticket_encryption" => ("krb5.ticket_encryption", Value),
        "nfs_procedure" => ("nfs_procedure", Value),
        "nfs.version" => ("nfs.version", Value),
        "snmp.version" => ("snmp.version", Value),
        "snmp.pdu_type" => ("snmp.pdu_type", Value),
        "snmp.usm" => ("snmp.usm", Sticky("snmp.usm")),
        "snmp.community" => ("snmp.community", Sticky("snmp.community")),
        "dhcp.leasetime" => ("dhcp.leasetime", Value),
        "dhcp.rebinding_time" => ("dhcp.rebinding_time", Value),
        "dhcp.renewal_time" => ("dhcp.renewal_time", Value),
        "rfb.name" => ("rfb.name", Sticky("rfb.name")),
        "rfb.sectype" => ("rfb.sectype", Value),
        "rfb.secresult" => ("rfb.secresult", Value),
        "websocket.opcode" => ("websocket.opcode", Value),
        "websocket.mask" => ("websocket.mask", Value),
        "websocket.flags" => ("websocket.flags", Value),
        "websocket.payload" => ("websocket.payload", Sticky("websocket.payload")),
        "pgsql.query" => ("pgsql.query", Sticky("pgsql.query")),

        // IKE.
        "ike.exchtype" => ("ike.exchtype", Value),
        "ike.chosen_sa_attribute" => ("ike.chosen_sa_attribute", Value),
        "ike.key_exchange_payload_length" => ("ike.key_exchange_payload_length", Value),
        "ike.nonce_payload_length" => ("ike.nonce_payload_length", Value),
        "ike.init_spi" => ("ike.init_spi", Sticky("ike.init_spi")),
        "ike.resp_spi" => ("ike.resp_spi", Sticky("ike.resp_spi")),
        "ike.vendor" => ("ike.vendor", Sticky("ike.vendor")),
        "ike.nonce_payload" => ("ike.nonce_payload", Sticky("ike.nonce_payload")),
        "ike.key_exchange_payload" => (
            "ike.key_exchange_payload",
            Sticky("ike.key_exchange_payload"),
        ),

        // MQTT.
        "mqtt.type"
        | "mqtt.flags"
        | "mqtt.qos"
        | "mqtt.reason_code"
        | "mqtt.connack.session_present"
        | "mqtt.protocol_version"
        | "mqtt.connect.flags" => (static_name(kw), Value),
        "mqtt.unsubscribe.topic"
        | "mqtt.subscribe.topic"
        | "mqtt.publish.topic"
        | "mqtt.publish.message"
        | "mqtt.connect.willtopic"
        | "mqtt.connect.willmessage"
        | "mqtt.connect.username"
        | "mqtt.connect.protocol_string"
        | "mqtt.connect.password"
        | "mqtt.connect.clientid" => {
            let n = static_name(kw);
            (n, Sticky(n))
        }

        // LDAP.
        "ldap.request.operation"
        | "ldap.responses.operation"
        | "ldap.responses.count"
        | "ldap.responses.result_code" => (static_name(kw), Value),
        "ldap.request.dn"
        | "ldap.responses.dn"
        | "ldap.responses.message"
        | "ldap.request.attribute_type"
        | "ldap.responses.attribute_type" => {
            let n = static_name(kw);
            (n, Sticky(n))
        }

        // SIP, SDP, email, SMTP: all sticky buffers.
        "sip.method"
        | "sip.uri"
        | "sip.protocol"
        | "sip.stat_code"
        | "sip.stat_msg"
        | "sip.request_line"
        | "sip.response_line"
        | "sip.from"
        | "sip.to"
        | "sip.via"
        | "sip.user_agent"
        | "sip.content_type"
        | "sip.content_length"
        | "sdp.session_name"
        | "sdp.session_info"
        | "sdp.origin"
        | "sdp.uri"
        | "sdp.email"
        | "sdp.phone_number"
        | "sdp.connection_data"
        | "sdp.bandwidth"
        | "sdp.time"
        | "sdp.repeat_time"
        | "sdp.timezone"
        | "sdp.encryption_key"
        | "sdp.attribute"
        | "sdp.media.media"
        | "sdp.media.media_info"
        | "sdp.media.connection_data"
        | "sdp.media.encryption_key"
        | "email.from"
        | "email.subject"
        | "email.to"
        | "email.cc"
        | "email.date"
        | "email.message_id"
        | "email.x_mailer"
        | "email.url"
        | "email.received"
        | "smtp.helo"
        | "smtp.mail_from"
        | "smtp.rcpt_to" => {
            let n = static_name(kw);
            (n, Sticky(n))
        }
        _ => return None,
    };
    Some(r)
}

/// Interns the names matched in the or-patterns above (each arm's names are listed here).
fn static_name(kw: &str) -> &'static str {
    const NAMES: &[&str] = &[
        "enip.capabilities",
        "enip.cip_attribute",
        "enip.cip_class",
        "enip.vendor_id",
        "enip.status",
        "enip.state",
        "enip.serial",
        "enip.revision",
        "enip.protocol_version",
        "enip.product_code",
        "enip.identity_status",
        "enip.device_type",
        "enip.cip_status",
        "enip.cip_instance",
        "enip.cip_extendedstatus",
        "mqtt.type",
        "mqtt.flags",
        "mqtt.qos",
        "mqtt.reason_code",
        "mqtt.connack.session_present",
        "mqtt.protocol_version",
        "mqtt.connect.flags",
        "mqtt.unsubscribe.topic",
        "mqtt.subscribe.topic",
        "mqtt.publish.topic",
        "mqtt.publish.message",
        "mqtt.connect.willtopic",
        "mqtt.connect.willmessage",
        "mqtt.connect.username",
        "mqtt.connect.protocol_string",
        "mqtt.connect.password",
        "mqtt.connect.clientid",
        "ldap.request.operation",
        "ldap.responses.operation",
        "ldap.responses.count",
        "ldap.responses.result_code",
        "ldap.request.dn",
        "ldap.responses.dn",
        "ldap.responses.message",
        "ldap.request.attribute_type",
        "ldap.responses.attribute_type",
        "sip.method",
        "sip.uri",
        "sip.protocol",
        "sip.stat_code",
        "sip.stat_msg",
        "sip.request_line",
        "sip.response_line",
        "sip.from",
        "sip.to",
        "sip.via",
        "sip.user_agent",
        "sip.content_type",
        "sip.content_length",
        "sdp.session_name",
        "sdp.session_info",
        "sdp.origin",
        "sdp.uri",
        "sdp.email",
        "sdp.phone_number",
        "sdp.connection_data",
        "sdp.bandwidth",
        "sdp.time",
        "sdp.repeat_time",
        "sdp.timezone",
        "sdp.encryption_key",
        "sdp.attribute",
        "sdp.media.media",
        "sdp.media.media_info",
        "sdp.media.connection_data",
        "sdp.media.encryption_key",
        "email.from",
        "email.subject",
        "email.to",
        "email.cc",
        "email.date",
        "email.message_id",
        "email.x_mailer",
        "email.url",
        "email.received",
        "smtp.helo",
        "smtp.mail_from",
        "smtp.rcpt_to",
    ];
    NAMES
        .iter()
        .copied()
        .find(|n| *n == kw)
        .unwrap_or("unknown")
}

/// Protocols of the rule header (lower-case), Suricata 5–8: packet protocols, app-layer
/// protocols and the pseudo-protocols.
pub const PROTOCOLS: &[&str] = &[
    "ip",
    "ipv4",
    "ip4",
    "ipv6",
    "ip6",
    "pkthdr",
    "tcp",
    "tcp-pkt",
    "tcp-stream",
    "udp",
    "udp-pkt",
    "icmp",
    "icmpv4",
    "icmpv6",
    "sctp",
    "igmp",
    "ether",
    "arp",
    "http",
    "http1",
    "http2",
    "doh2",
    "ftp",
    "ftp-data",
    "smtp",
    "pop3",
    "imap",
    "tls",
    "ssl",
    "ssh",
    "smb",
    "dcerpc",
    "dns",
    "mdns",
    "modbus",
    "enip",
    "dnp3",
    "nfs",
    "ntp",
    "tftp",
    "ike",
    "ikev2",
    "krb5",
    "quic",
    "dhcp",
    "snmp",
    "sip",
    "rfb",
    "mqtt",
    "pgsql",
    "telnet",
    "rdp",
    "websocket",
    "ldap",
    "bittorrent-dht",
    "template",
    "irc",
    "jabber",
];

/// The canonical `&'static str` for a protocol name (lower-cased), if known.
pub fn protocol(name: &str) -> Option<&'static str> {
    PROTOCOLS.iter().copied().find(|p| *p == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_canonical_names() {
        assert_eq!(
            lookup("dns_query"),
            Some(("dns.query", Kind::Sticky("dns.query")))
        );
        assert_eq!(
            lookup("tls_sni"),
            Some(("tls.sni", Kind::Sticky("tls.sni")))
        );
        assert_eq!(
            lookup("ja3_hash"),
            Some(("ja3.hash", Kind::Sticky("ja3.hash")))
        );
        assert_eq!(
            lookup("http_uri"),
            Some(("http_uri", Kind::Modifier("http.uri")))
        );
        assert_eq!(lookup("flags"), Some(("tcp.flags", Kind::Value)));
        assert_eq!(lookup("dns_qry"), None);
    }

    #[test]
    fn or_pattern_names_are_interned() {
        for kw in [
            "enip.state",
            "mqtt.qos",
            "sip.via",
            "smtp.helo",
            "ldap.request.dn",
        ] {
            assert_eq!(lookup(kw).map(|(n, _)| n), Some(kw));
        }
    }
}
