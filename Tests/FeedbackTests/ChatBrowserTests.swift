import Feedback
import Foundation
import Personalization
import XCTest

/// The end users' chat page in a real headless Chromium, against the server running the demo's SFT model: replies
/// stream in, choices by keyboard and by mouse and a thumb are stored, and hostile model text stays inert text.
final class ChatBrowserTests: XCTestCase {
    /// The committed demo model; it was fine-tuned on the transcript format of `transcript.jinja`.
    private static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../CLITests/Fixtures/demo-sft").standardized
    private static let userName = "Ann <b>B</b>"
    private static let hostileMessage = "<img src=x onerror=\"window.__injected = 'message'\"><b>Hi</b>"
    private static let hostileReplies = [
        "<script>window.__injected = 'script'</script>Use a list.",
        "<img src=x onerror=\"window.__injected = 'img'\">",
    ]
    private static let hostileCorrection = "<script>window.__injected = 'correction'</script>"
    /// Nothing ran, nothing became an element (not even for a moment: `__elements`); the page's two scripts are its
    /// only ones.
    private static let inert = """
        return window.__injected === undefined && window.__elements.length === 0
            && document.querySelectorAll('#app img, #app b, #app script').length === 0 && document.querySelectorAll('script').length === 2
        """

    func testRepliesStreamInAndChoicesByKeyboardAndMouseAndAThumbAreStored() async throws {
        try await withChatPage { database, user, browser in
            // Every state the page leaves and every text #reply-0 is given, in order: the test sees the stream itself,
            // not only its end.
            _ = try await browser.execute("""
                window.__seen = [];
                new MutationObserver((records) => {
                  for (const record of records) {
                    if (record.type === 'attributes') window.__seen.push('left ' + record.oldValue);
                    else if (record.target.id === 'reply-0') for (const node of record.addedNodes) window.__seen.push(node.textContent);
                  }
                }).observe(document.getElementById('app'),
                           { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'], attributeOldValue: true });
                """)

            // Turn 1: Enter sends; the replies stream in; 1 (the message box no longer has the focus) keeps the first.
            let first = "How do I water a cactus?"
            try await browser.press(first.map(String.init) + ["\u{E007}"])
            try await browser.wait(until: Self.state("choosing"), seconds: 60)
            let replies = try await Self.textContents("#reply-0, #reply-1", browser)
            XCTAssertFalse(replies[0].isEmpty)
            let seen = try await browser.execute("return window.__seen") as? [String] ?? []
            XCTAssertEqual(seen.first, "left ready")
            XCTAssertEqual(seen.last, "left streaming")
            let streamed = Array(seen.dropFirst().dropLast())
            XCTAssertGreaterThan(streamed.count, 1, "pieces are shown before the done event's whole reply: \(seen)")
            XCTAssertEqual(streamed.last, replies[0])

            try await browser.press(["1"])
            try await browser.wait(until: Self.acknowledged(1))
            var stored = try await database.store.personalFeedback(user: user.id)
            XCTAssertEqual(stored.pairs.map { [$0.prompt, $0.chosen, $0.rejected] }, [["User: \(first)\nAssistant:", replies[0], replies[1]]])
            let conversation = try await Self.textContents("#conversation .text", browser)
            XCTAssertEqual(conversation, [first, replies[0]])

            // Turn 2: a digit typed into a text box is text, not a choice; then a mouse click keeps the second reply.
            // The kept first reply went back to the server as the conversation's history.
            let second = "And in winter?"
            try await browser.press(second.map(String.init) + ["\u{E007}"])
            try await browser.wait(until: Self.state("choosing"), seconds: 60)
            let secondReplies = try await Self.textContents("#reply-0, #reply-1", browser)
            try await browser.click("#correction")
            try await browser.press(["2"])
            let typed = try await browser.execute("""
                return document.getElementById('correction').value === '2' && document.getElementById('app').dataset.feedback === '1'
                    && !document.getElementById('prefer-1').disabled
                """)
            XCTAssertEqual(typed as? Bool, true)
            try await browser.click("#prefer-1")
            try await browser.wait(until: Self.acknowledged(2))
            stored = try await database.store.personalFeedback(user: user.id)
            let history = "User: \(first)\nAssistant: \(replies[0].trimmingCharacters(in: .whitespacesAndNewlines))\nUser: \(second)\nAssistant:"
            XCTAssertEqual(stored.pairs.map { [$0.prompt, $0.chosen, $0.rejected] }.last ?? [], [history, secondReplies[1], secondReplies[0]])

            // Turn 3, one reply: thumbs take the choice buttons' place, and + rates it good.
            try await browser.click("#mode option[value='single']")
            try await browser.click("#message")
            try await browser.press("Thanks!".map(String.init) + ["\u{E007}"])
            try await browser.wait(until: Self.state("choosing"), seconds: 60)
            let single = try await browser.execute("""
                return document.getElementById('reply-1').closest('.reply').hidden && document.getElementById('prefer-0').hidden
                    && !document.getElementById('thumbs').hidden
                """)
            XCTAssertEqual(single as? Bool, true)
            let rated = try await Self.textContents("#reply-0", browser)[0]
            try await browser.press(["+"])
            try await browser.wait(until: Self.acknowledged(3))
            stored = try await database.store.personalFeedback(user: user.id)
            XCTAssertEqual(stored.thumbs.map(\.completion), [rated])
            XCTAssertEqual(stored.thumbs.map(\.up), [true])
            XCTAssertEqual(stored.events, 3)
            let adapter = try await browser.visibleTexts("#adapter")
            XCTAssertEqual(adapter, ["Your model: the base model (no personal version yet), 3 feedback events, 3 not learnt yet"])
        }
    }

    /// The model's text is untrusted: markup in it, streamed in pieces that cut it apart, is shown as text. The tiny
    /// model never writes markup, so the page's fetch of /api/chat is wrapped: the server writes a real turn (answered
    /// whole), whose ids take the feedback, and the page's own stream parser is fed hostile texts for its replies.
    func testHostileModelTextStaysInertText() async throws {
        try await withChatPage { database, user, browser in
            // Any element put into a text box at any moment (even one replaced at once) is recorded.
            _ = try await browser.execute("""
                window.__elements = [];
                new MutationObserver((records) => {
                  for (const record of records) {
                    for (const node of record.addedNodes) {
                      if (node.nodeType === Node.ELEMENT_NODE && record.target.closest('.text')) window.__elements.push(node.tagName);
                    }
                  }
                }).observe(document.getElementById('app'), { subtree: true, childList: true });
                const hostile = \(Self.json(Self.hostileReplies));
                const realFetch = window.fetch.bind(window);
                window.fetch = async (url, init) => {
                  if (url !== '/api/chat') return realFetch(url, init);
                  const turn = await (await realFetch(url, { ...init, headers: { ...init.headers, Accept: 'application/json' } })).json();
                  const events = [];
                  // The first reply in pieces of 5 characters that cut its tags apart, the second in one piece.
                  hostile.forEach((text, reply) => {
                    const size = reply === 0 ? 5 : text.length;
                    for (let at = 0; at < text.length; at += size) {
                      events.push(`event: delta\\ndata: ${JSON.stringify({ reply, text: text.slice(at, at + size) })}\\n\\n`);
                    }
                  });
                  const done = { turn: turn.turn, replies: turn.replies.map((reply, index) => ({ id: reply.id, text: hostile[index] })) };
                  events.push(`event: done\\ndata: ${JSON.stringify(done)}\\n\\n`);
                  // Chunks of 7 bytes: events, lines and tags arrive cut apart, as a network may deliver them.
                  const bytes = new TextEncoder().encode(events.join(''));
                  const body = new ReadableStream({
                    start(controller) {
                      for (let at = 0; at < bytes.length; at += 7) controller.enqueue(bytes.slice(at, at + 7));
                      controller.close();
                    },
                  });
                  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
                };
                """)
            let name = try await browser.visibleTexts("#user-name")
            XCTAssertEqual(name, [Self.userName])

            // The user's own markup is sent and echoed as text too; every character of the replies is visible.
            try await browser.press(Self.hostileMessage.map(String.init) + ["\u{E007}"])
            try await browser.wait(until: Self.state("choosing"), seconds: 60)
            let shown = try await browser.visibleTexts("#reply-0, #reply-1")
            XCTAssertEqual(shown, Self.hostileReplies)
            let exact = try await Self.textContents("#reply-0, #reply-1", browser)
            XCTAssertEqual(exact, Self.hostileReplies)
            var inert = try await browser.execute(Self.inert) as? Bool
            XCTAssertEqual(inert, true)

            // The kept reply joins the conversation, still as text.
            try await browser.press(["1"])
            try await browser.wait(until: Self.acknowledged(1))
            let conversation = try await browser.visibleTexts("#conversation .text")
            XCTAssertEqual(conversation, [Self.hostileMessage, Self.hostileReplies[0]])
            inert = try await browser.execute(Self.inert) as? Bool
            XCTAssertEqual(inert, true)

            // A correction with markup reaches the server exactly as written.
            try await browser.click("#correction")
            try await browser.press(Self.hostileCorrection.map(String.init))
            try await browser.click("#send-correction")
            try await browser.wait(until: Self.acknowledged(2))
            let stored = try await database.store.personalFeedback(user: user.id)
            XCTAssertEqual(stored.pairs.count, 1)
            XCTAssertEqual(stored.pairs.first?.prompt, "User: \(Self.hostileMessage)\nAssistant:")
            XCTAssertEqual(stored.corrections.map(\.text), [Self.hostileCorrection])
            inert = try await browser.execute(Self.inert) as? Bool
            XCTAssertEqual(inert, true)
        }
    }

    /// A chat user at their personal link on /chat (ready), the server running the demo model beside the labeling app.
    private func withChatPage(_ body: @escaping @Sendable (TestDatabase, ChatUserCredentials, WebDriver) async throws -> Void) async throws {
        guard let browser = try await WebDriver.start() else {
            throw XCTSkip("chromium and chromedriver are not installed: run scripts/apt-install.sh chromium chromium-driver")
        }
        do {
            let database = try await TestDatabase()
            var config = PersonalizationConfig()
            config.model = Self.model.path
            config.adapters = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-adapters-\(UUID().uuidString)").path
            config.chatTemplate = try String(contentsOf: Self.model.appendingPathComponent("transcript.jinja"), encoding: .utf8)
            config.maxNewTokens = 24  // short replies keep the test quick and still stream in several pieces
            let chat = try PersonalizationServer(config: config, store: database.store)
            let user = try await database.store.createChatUser(name: Self.userName)
            try await database.withServer(extensions: [chat]) { api in
                try await browser.navigate(to: "\(api.baseURL.absoluteString)/chat#token=\(user.token)")
                try await browser.wait(until: Self.state("ready"))
                try await body(database, user, browser)
            }
        } catch {
            await browser.quit()
            throw error
        }
        await browser.quit()
    }

    private static func state(_ name: String) -> String {
        "return document.getElementById('app').dataset.state === '\(name)'"
    }

    /// The page counted `count` feedback calls answered and is ready for the next message.
    private static func acknowledged(_ count: Int) -> String {
        "const app = document.getElementById('app'); return app.dataset.feedback === '\(count)' && app.dataset.state === 'ready'"
    }

    /// The exact text (textContent) of every element matching the CSS selector, to compare with stored text character
    /// for character.
    private static func textContents(_ selector: String, _ browser: WebDriver) async throws -> [String] {
        try await browser.execute("return [...document.querySelectorAll(\(json(selector)))].map((node) => node.textContent)")
            as? [String] ?? []
    }

    private static func json(_ value: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]), as: UTF8.self)
    }
}
