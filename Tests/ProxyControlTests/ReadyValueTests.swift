import ProxyControl
import Testing

@Suite("ReadyValue: a value known once, awaited by many")
struct ReadyValueTests {
    @Test("waiters get the value once it is set; later readers get it at once")
    func setWakesWaiters() async {
        let ready = ReadyValue<Int>()
        #expect(ready.current == nil)
        async let first = ready.value()
        async let second = ready.value()
        ready.set(42)
        #expect(await first == 42)
        #expect(await second == 42)
        #expect(await ready.value() == 42)
        #expect(ready.current == 42)
    }

    @Test("a cancelled waiter gets nil and does not hang")
    func cancelled() async {
        let ready = ReadyValue<String>()
        let waiter = Task { await ready.value() }
        waiter.cancel()
        #expect(await waiter.value == nil)
        ready.set("late")
        #expect(ready.current == "late")
    }
}
