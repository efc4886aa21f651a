import Foundation
import ProxyControl
import ProxyModel
import RouteStore

extension ConsoleLoop {
    /// Carries out what the controller asked for. Store work runs in tasks and reports back through the
    /// bridge; the editor runs right here, with the terminal handed over to it.
    func perform(_ commands: [ConsoleCommand]) {
        for command in commands {
            switch command {
            case .quit:
                quitRequested = true
            case .saveRoute(let id, let body):
                saveRoute(id: id, body: body)
            case .deleteRoute(let id):
                deleteRoute(id: id)
            case .disconnect(let connectionID):
                disconnect(connectionID)
            case .editRouteInEditor(let id, let json):
                editInEditor(id: id, json: json)
            case .previewRebalance(let id, let body):
                previewRebalance(id: id, body: body)
            case .demo(let request):
                demo(request)
            case .previewDrain(let node):
                let engine = env.engine
                let bridge = env.bridge
                Task { bridge.post(.drainPreview(node: node, await engine.previewDrain(node: node))) }
            case .drain(let node, let rate, let reference):
                drain(node, rate, reference)
            case .undrain(let node):
                let engine = env.engine
                let bridge = env.bridge
                Task {
                    let ended = await engine.undrain(node: node)
                    bridge.post(.report(ended ? "\(node) takes new clients again" : "\(node) was not drained",
                                        isError: !ended))
                }
            case .endConnectionsAndQuit:
                endConnectionsAndQuit()
            case .copy(let text):
                screen.copyToClipboard(text)
            case .dumpScreen:
                dumpScreen()
            }
        }
    }

    /// Hands a demo request to the demo; its answer comes back as a status line (or, for an added broker, as a
    /// route change to preview).
    private func demo(_ request: DemoRequest) {
        guard let demo = env.demo else { return }
        let bridge = env.bridge
        let data = self.data
        Task {
            switch request {
            case .kill(let node):
                bridge.post(.report(await demo.kill(node: node), isError: false))
            case .revive(let node):
                bridge.post(.report(await demo.revive(node: node), isError: false))
            case .hang(let node):
                bridge.post(.report(await demo.hang(node: node), isError: false))
            case .unhang(let node):
                bridge.post(.report(await demo.unhang(node: node), isError: false))
            case .addBroker(let routeID):
                do {
                    let address = try await demo.addBroker()
                    var nodes = KeyHandling.nodes(of: routeID, data) ?? []
                    let endpoint = HostPort(address) ?? HostPort(host: address, port: 1883)
                    nodes.append(UpstreamNode(host: endpoint.host, port: endpoint.port, weight: 1))
                    if let body = KeyHandling.routeBody(routeID, data: data, nodes: nodes) {
                        bridge.post(.propose(routeID: routeID, body: body))
                    } else {
                        bridge.post(.report("started \(address); route \(routeID) uses a shared upstream", isError: true))
                    }
                } catch {
                    bridge.post(.report("could not start a broker: \(error)", isError: true))
                }
            }
        }
    }

    private func disconnect(_ connectionID: UInt64) {
        let info = data.engine.connections.first { $0.id == connectionID }
        let name = info.map { "\($0.clientID ?? "<empty>") (\($0.remoteAddress):\($0.remotePort))" }
            ?? "connection \(connectionID)"
        let engine = env.engine
        let bridge = env.bridge
        Task {
            if await engine.disconnect(connectionID: connectionID) {
                bridge.post(.report("disconnected \(name)", isError: false))
            } else {
                bridge.post(.report("\(name) is already gone", isError: true))
            }
        }
    }

    private func drain(_ node: String, _ rate: Double?, _ reference: String?) {
        let engine = env.engine
        let bridge = env.bridge
        Task {
            do throws(ControlError) {
                _ = try await engine.drain(node: node, evictPerSecond: rate, serverReference: reference)
                let moving = rate.map { "moving \(Format.number($0)) client(s)/s" } ?? "keeping its clients"
                bridge.post(.report("draining \(node): new clients go elsewhere, \(moving)", isError: false))
            } catch {
                bridge.post(.report("\(node) not drained: \(error)", isError: true))
            }
        }
    }

    /// Writes what the screen shows (without the status line that would announce it) to a text file.
    private func dumpScreen() {
        let size = screen.size
        let grid = controller.render(data: data, width: size.width, height: size.height)
        let path = ScreenDump.fileName(at: Date())
        do {
            try ScreenDump.text(grid).write(toFile: path, atomically: true, encoding: .utf8)
            controller.report("screen written to \(path)", isError: false)
        } catch {
            controller.report("could not write \(path): \(error.localizedDescription)", isError: true)
        }
    }

    /// Ends every connection as a shutdown does (the frame shows how many are left), then quits.
    private func endConnectionsAndQuit() {
        let engine = env.engine
        let bridge = env.bridge
        let snapshot = data.engine
        controller.beginQuitting(open: snapshot.openConnections)
        Task {
            let left = await engine.endAllConnections(timeout: snapshot.drainTimeout)
            if left > 0 { bridge.post(.report("\(left) connection(s) did not end in time; closing them", isError: true)) }
            bridge.post(.quit)
        }
    }

    private func saveRoute(id: String, body: JSONValue) {
        let store = env.store
        let bridge = env.bridge
        Task {
            do throws(StoreError) {
                let result = try await store.put(.streamRoutes, id: id, json: body)
                bridge.post(.report("stream route \(result.object.id) \(result.created ? "created" : "saved")",
                                    isError: false))
            } catch {
                bridge.post(.report("stream route \(id) not saved: \(error.description)", isError: true))
            }
        }
    }

    private func deleteRoute(id: String) {
        let store = env.store
        let bridge = env.bridge
        Task {
            do throws(StoreError) {
                try await store.delete(.streamRoutes, id: id)
                bridge.post(.report("stream route \(id) deleted", isError: false))
            } catch {
                bridge.post(.report("stream route \(id) not deleted: \(error.description)", isError: true))
            }
        }
    }

    private func previewRebalance(id: String, body: JSONValue) {
        let store = env.store
        let engine = env.engine
        let bridge = env.bridge
        Task {
            do throws(StoreError) {
                let preview = try await engine.previewChange(.streamRoutes, id: id, body: body, store: store)
                bridge.post(.preview(preview.rebalance ?? RebalancePreview(considered: 0, moves: [])))
            } catch {
                bridge.post(.report("stream route \(id): \(error.description)", isError: true))
            }
        }
    }

    /// Suspends curses, edits the route's JSON in `$EDITOR`, takes the terminal back, and gives the
    /// controller the new text (nil when unchanged or when the editor failed).
    private func editInEditor(id: String?, json: JSONValue) {
        let launcher = EditorLauncher()
        let bridge = env.bridge
        screen.suspend()
        let outcome: Result<String?, EditorError>
        do throws(EditorError) {
            outcome = .success(try launcher.edit(json.prettyJSONText, name: "route-\(id ?? "new")") { pid in
                bridge.setEditor(pid)
            })
        } catch {
            outcome = .failure(error)
        }
        screen.resume()
        switch outcome {
        case .success(let text):
            perform(controller.editorReturned(id: id, text: text, data: data))
        case .failure(let error):
            controller.editorReturned(id: id, text: nil, data: data)
            controller.report(error.description, isError: true)
            env.logger.warning("console: \(error)")
        }
    }
}
