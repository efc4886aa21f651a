extension AdminConfig {
    /// Admin keys printed in APISIX's documentation; anyone can read them.
    public static let documentedKeys: Set<String> = [
        AdminKey.documentedExample.key, "4054f7cf07e344346cd3f287985e76a2",
    ]

    /// Whether the admin API only listens on a loopback address.
    public var listensOnLoopbackOnly: Bool {
        guard let addr = IPAddressBytes(listenHost) else { return listenHost == "localhost" }
        let bytes = addr.unmappedIPv4?.bytes ?? addr.bytes
        if bytes.count == 4 { return bytes[0] == 127 }
        return bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// Why this admin set-up must not start, or nil: a documented key on a non-loopback listener.
    public var publicKeyProblem: String? {
        guard !listensOnLoopbackOnly, keyRequired else {
            if !listensOnLoopbackOnly, !keyRequired {
                return "admin_key_required is false while the admin API listens on \(listenHost): "
                    + "anyone who can reach it can change routes; set admin_key_required: true and a real key"
            }
            return nil
        }
        guard let key = keys.first(where: { AdminConfig.documentedKeys.contains($0.key) }) else { return nil }
        return """
            the admin key "\(key.name)" is APISIX's documented example key and the admin API would listen on \
            \(listenHost):\(listenPort); set deployment.admin.admin_key[].key to a secret of your own \
            (e.g. openssl rand -hex 16) or listen on 127.0.0.1
            """
    }

    /// A warning for set-ups that may start but deserve attention, or nil.
    public var safetyWarning: String? {
        if let problem = publicKeyProblem { return problem }
        if !keyRequired { return "admin_key_required is false: the admin API accepts requests without a key" }
        if keys.contains(where: { AdminConfig.documentedKeys.contains($0.key) }) {
            return "the admin key is APISIX's documented example key; fine on loopback, change it before listening "
                + "on another address"
        }
        if keys.isEmpty { return "no admin_key configured: every admin request will be refused with 401" }
        return nil
    }
}
