import Foundation
import ProxyControl
import ProxyModel
import RouteStore

/// Keeping the copy current: what each stream message asks to read.
extension RemoteInstance {
    /// Applies one `change` message: new events, opened and closed connections, and the summary.
    func apply(_ change: JSONValue) async throws(AdminClientError) {
        let events = change["events"]?.arrayValue?.compactMap(SnapshotJSON.decodeEvent) ?? []
        let opened = change["opened"]?.arrayValue?.compactMap { $0.intValue.map { UInt64($0) } } ?? []
        let closed = Set(change["closed"]?.arrayValue?.compactMap { $0.intValue.map { UInt64($0) } } ?? [])
        let name = self.name
        state.withLock { s in
            for var event in events where event.sequence > s.nextEvent {
                event.instance = name
                s.events.append(event)
            }
            if s.events.count > Self.eventCapacity { s.events.removeFirst(s.events.count - Self.eventCapacity) }
            s.nextEvent = max(s.nextEvent, change["next"]?.intValue ?? s.nextEvent)
            for id in closed { s.connections[id] = nil }
            s.waiting.removeAll { closed.contains($0) }
            s.waiting += opened.filter { s.connections[$0] == nil }
            // Too many changes to follow one by one: the next whole read (as the budget allows) brings them.
            if change["connections_resync"]?.boolValue == true || s.waiting.count > Self.maxWaiting { s.waiting = [] }
        }
        try await readWaiting()
        try await readSummary()
        try await resyncIfDue(force: false)
        changed()
    }

    /// Reads the opened connections waiting, 100 at a time, while the detail budget lasts.
    func readWaiting() async throws(AdminClientError) {
        while true {
            let now = Date().timeIntervalSince1970
            let ids = state.withLock { s -> [UInt64] in
                s.detailTokens = min(detailBudget * 4, s.detailTokens + (now - s.refilledAt) * detailBudget)
                s.refilledAt = now
                guard s.detailTokens > 0 else { return [] }
                return Array(s.waiting.prefix(100))
            }
            guard !ids.isEmpty else { return }
            let before = client.bytesReceived
            let list = try await client.call(.GET, "/v1/connections?ids=\(ids.map(String.init).joined(separator: ","))").body
            let cost = Double(client.bytesReceived - before)
            let read = Set(ids)
            state.withLock { s in
                s.detailTokens -= cost
                s.waiting.removeAll { read.contains($0) }
            }
            store(list["connections"]?.arrayValue?.compactMap(SnapshotJSON.decodeConnection) ?? [], replacing: false)
        }
    }

    /// Reads `/v1/summary`: counters, health, store, who the instance is.
    func readSummary() async throws(AdminClientError) {
        let body = try await client.call(.GET, "/v1/summary").body
        guard let summary = SnapshotJSON.decodeSummary(body) else {
            throw .malformed("\(client.baseURL)/v1/summary: not a summary")
        }
        let info = body["instance"]
        state.withLock { s in
            s.summary = summary
            s.instanceID = info?["id"]?.stringValue ?? s.instanceID
            s.hostname = info?["hostname"]?.stringValue
            s.version = info?["version"]?.stringValue
            s.role = info?["role"]?.stringValue
            s.storeRevision = body["store_revision"]?.intValue
            s.reachable = true
            s.lastError = nil
            s.lastSeen = Date().timeIntervalSince1970
        }
    }

    /// Reads the recent events once (after attaching), so the Log view starts with history.
    func readEvents() async throws(AdminClientError) {
        let body = try await client.call(.GET, "/v1/events").body
        let name = self.name
        let events = (body["events"]?.arrayValue?.compactMap(SnapshotJSON.decodeEvent) ?? []).suffix(Self.eventCapacity)
        state.withLock { s in
            s.events = events.map { e in
                var e = e
                e.instance = name
                return e
            }
            s.nextEvent = max(s.nextEvent, body["next"]?.intValue ?? 0)
        }
    }

    /// Reads the whole connection list (fresh byte counters, and a copy that can be trusted again) as often as the
    /// budget allows, and at once with `force`: after a read of B bytes, the next waits B / `resyncBudget` seconds
    /// (at least 2). 100 connections are read again every few seconds, 9,000 every few minutes.
    func resyncIfDue(force: Bool) async throws(AdminClientError) {
        let now = Date().timeIntervalSince1970
        let due = state.withLock { s in force || now >= s.nextResyncAllowed }
        guard due else { return }
        let before = client.bytesReceived
        let body = try await client.call(.GET, "/v1/connections").body
        let cost = Double(client.bytesReceived - before)
        store(body["connections"]?.arrayValue?.compactMap(SnapshotJSON.decodeConnection) ?? [], replacing: true)
        state.withLock { s in
            s.waiting = []
            s.nextResyncAllowed = Date().timeIntervalSince1970 + max(2, cost / resyncBudget)
        }
    }

    /// Puts connections into the copy, tagged with the instance's name; `replacing` drops those not listed.
    func store(_ connections: [ConnectionInfo], replacing: Bool) {
        let name = self.name
        state.withLock { s in
            if replacing { s.connections.removeAll(keepingCapacity: true) }
            for var c in connections {
                c.instance = name
                s.connections[c.id] = c
            }
        }
    }
}
