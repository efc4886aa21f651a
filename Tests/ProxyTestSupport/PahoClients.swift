import Foundation
import Testing

/// Real paho-mqtt clients in a Python process: each connects through the proxy with a will, stays connected,
/// and records how it was disconnected (reason code, Server Reference, time). Works with paho-mqtt 1.x and 2.x.
public final class PahoClients: Sendable {
    /// What one client saw.
    public struct Outcome: Sendable, Decodable {
        public var id: String
        public var connected: Bool
        /// The DISCONNECT's reason code (MQTT 5), or -1 for a close without one.
        public var reason: Int?
        public var serverReference: String?
        /// Unix time of the disconnect.
        public var at: Double?

        enum CodingKeys: String, CodingKey {
            case id, connected, reason, at
            case serverReference = "server_reference"
        }
    }

    let process: ChildProcess
    let directory: String

    /// Whether Python and paho-mqtt are installed.
    public static var available: Bool {
        guard let python = ExternalTools.find("python3") else { return false }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = ["-c", "import paho.mqtt.client"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return false }
        check.waitUntilExit()
        return check.terminationStatus == 0
    }

    /// Starts `ids.count` clients of MQTT `version` (4 or 5) against `host:port`, each with a will on
    /// `will/<id>`; returns once all are connected (or the script gave up).
    public init(ids: [String], version: Int, host: String = "127.0.0.1", port: Int, timeout: Double = 15) async throws {
        guard let python = ExternalTools.find("python3") else { throw BrokerError(message: "python3 is missing") }
        directory = NSTemporaryDirectory() + "paho-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try PahoClients.script.write(toFile: directory + "/clients.py", atomically: true, encoding: .utf8)
        try ids.joined(separator: "\n").write(toFile: directory + "/ids", atomically: true, encoding: .utf8)
        process = try ChildProcess(python, [directory + "/clients.py", host, "\(port)", "\(version)", directory])
        let ready = directory + "/ready"
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: ready), process.isRunning, Date() < deadline {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        guard FileManager.default.fileExists(atPath: ready) else {
            process.stop()
            throw BrokerError(message: "paho clients did not connect: \(process.text)")
        }
    }

    /// Tells the script to stop and returns what every client saw.
    public func finish() async throws -> [Outcome] {
        _ = FileManager.default.createFile(atPath: directory + "/done", contents: nil)
        _ = await process.wait(timeout: 15)
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/outcomes.json"))
        try? FileManager.default.removeItem(atPath: directory)
        return try JSONDecoder().decode([Outcome].self, from: data)
    }

    /// Waits until `count` clients have seen their disconnect (at most `timeout` s); true when they have. The
    /// script's network threads notice a close on their own schedule, later on a loaded machine.
    public func waitForDisconnects(_ count: Int, timeout: Double = 10) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while disconnectsSoFar < count, Date() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return disconnectsSoFar >= count
    }

    /// The outcomes so far (the script rewrites the file at every disconnect).
    public var disconnectsSoFar: Int {
        ((try? String(contentsOfFile: directory + "/disconnects", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    static let script = #"""
    import json, os, sys, threading, time
    import paho.mqtt.client as mqtt

    host, port, version, folder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    ids = [line for line in open(os.path.join(folder, "ids")).read().split("\n") if line]
    protocol = mqtt.MQTTv5 if version == 5 else mqtt.MQTTv311
    v2 = hasattr(mqtt, "CallbackAPIVersion")
    lock = threading.Lock()
    outcomes = {i: {"id": i, "connected": False, "reason": None, "server_reference": None, "at": None} for i in ids}

    def on_connect(client, userdata, *args):
        with lock:
            outcomes[userdata]["connected"] = True

    def on_disconnect(client, userdata, *args):
        now = time.time()
        reason, reference = -1, None
        if protocol == mqtt.MQTTv5:
            rc = args[1] if v2 else args[0]
            props = args[2] if v2 and len(args) > 2 else (args[1] if len(args) > 1 else None)
            value = getattr(rc, "value", rc)
            reason = int(value) if value is not None else -1
            reference = getattr(props, "ServerReference", None) if props is not None else None
        with lock:
            o = outcomes[userdata]
            if o["at"] is None:
                o["reason"], o["server_reference"], o["at"] = reason, reference, now
                with open(os.path.join(folder, "disconnects"), "a") as f:
                    f.write(userdata + "\n")

    clients = []
    for i in ids:
        kwargs = {"client_id": i, "protocol": protocol, "userdata": i}
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, **kwargs) if v2 else mqtt.Client(**kwargs)
        c.on_connect, c.on_disconnect = on_connect, on_disconnect
        c.will_set("will/" + i, "gone", qos=1)
        c.reconnect_delay_set(min_delay=3600, max_delay=3600)
        c.connect(host, port, keepalive=60)
        c.loop_start()
        clients.append(c)
    deadline = time.time() + 10
    while time.time() < deadline:
        with lock:
            if all(o["connected"] for o in outcomes.values()):
                break
        time.sleep(0.02)
    open(os.path.join(folder, "ready"), "w").close()
    while not os.path.exists(os.path.join(folder, "done")):
        time.sleep(0.02)
    with lock:
        json.dump(list(outcomes.values()), open(os.path.join(folder, "outcomes.json"), "w"))
    os._exit(0)
    """#
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only where Python has paho-mqtt (`pip install paho-mqtt`), and always under
    /// `MQTT_PROXY_REQUIRE_E2E`.
    public static var requiresPaho: Self {
        .enabled(if: ExternalTools.required || PahoClients.available, "needs python3 with paho-mqtt (pip install paho-mqtt)")
    }
}
