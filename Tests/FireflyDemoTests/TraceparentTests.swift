import FireflyModel
import Testing
@testable import FireflyDemo

@Test func traceparentIsFiftyFiveLowercaseCharacters() {
    let tp = Traceparent(
        traceID: TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736")!, parentID: SpanID(hex: "00f067aa0ba902b7")!)
    #expect(tp.description == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    #expect(Traceparent(header: " \(tp.description)\t") == tp)
}

@Test func invalidTraceparentsAreRejected() {
    let bad = [
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // trailing data on 00
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  // short
    ]
    for header in bad { #expect(Traceparent(header: header) == nil, "\(header)") }
}

@Test func higherVersionsAreReadAsVersionZero() {
    let tp = Traceparent(header: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds")
    #expect(tp?.description == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
}
