import Testing

@testable import FireflyCore

@Suite struct BodyPaceTests {
    let pace = BodyPace(timeout: .seconds(300), minRate: 1000, grace: .seconds(5))

    @Test func theGraceIsFree() {
        #expect(pace.violation(received: 0, elapsed: .seconds(5)) == nil)
        #expect(pace.violation(received: 1, elapsed: .milliseconds(4999)) == nil)
    }

    @Test func afterTheGraceTheAverageRateMustHold() {
        // 10 s in: 5 s past the grace owe 5 000 bytes.
        #expect(pace.violation(received: 5000, elapsed: .seconds(10)) == nil)
        let slow = pace.violation(received: 4999, elapsed: .seconds(10))
        #expect(slow?.contains("server.body_min_rate") == true, "\(slow ?? "nil")")
        // A large body at a rate above the minimum takes as long as it needs, within body_timeout.
        #expect(pace.violation(received: 200_000, elapsed: .seconds(180)) == nil)
    }

    @Test func bodyTimeoutStaysTheHardLimit() {
        let reason = pace.violation(received: 10_000_000, elapsed: .seconds(301))
        #expect(reason?.contains("server.body_timeout") == true)
    }

    @Test func aZeroRateTurnsTheMinimumOff() {
        let off = BodyPace(timeout: .seconds(300), minRate: 0, grace: .milliseconds(100))
        #expect(off.violation(received: 0, elapsed: .seconds(299)) == nil)
    }

    @Test func theDefaultsAreDocumented() {
        let server = ServerConfig.default
        #expect(server.bodyPace == BodyPace(timeout: .seconds(300), minRate: 65536, grace: .seconds(5)))
    }
}
