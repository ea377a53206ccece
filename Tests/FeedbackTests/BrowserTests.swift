import Feedback
import Foundation
import XCTest

/// The labeler page in a real headless Chromium: a personal link, keyboard ranking with a tie and a flag, and
/// hostile completions that must stay inert text.
final class BrowserTests: XCTestCase {
    private static let hostileCompletions = [
        "<script>window.__injected = 'script'</script>Use a list.",
        "<img src=x onerror=\"window.__injected = 'img'\">",
        "A plain answer.",
    ]

    func testKeyboardRankingWithATieAndAFlagIsStoredExactly() async throws {
        let database = try await TestDatabase()
        let project = try await database.store.createProject(ProjectSettings(name: "browser", guidelines: "Rank <b>carefully</b>.",
                                                                            labelersPerItem: 1))
        _ = try await database.store.addItems([NewItem(prompt: "<i>Explain</i> lists", completions: Self.hostileCompletions.map {
            NewCompletion(text: $0)
        })], to: project)
        let labeler = try await database.labelers(1, in: project)[0]
        guard let browser = try await WebDriver.start() else {
            throw XCTSkip("chromium and chromedriver are not installed: run scripts/apt-install.sh chromium chromium-driver")
        }
        do {
            try await database.withServer { api in
                try await browser.navigate(to: "\(api.baseURL.absoluteString)/label?project=\(project)#token=\(labeler.token)")
                try await browser.wait(until: "return document.getElementById('app').dataset.state === 'labeling'")

                // Untrusted text is shown as text: nothing ran, nothing became an element, every character is visible.
                let shown = try await browser.visibleTexts("#completions .text")
                XCTAssertEqual(shown, Self.hostileCompletions)
                let prompt = try await browser.visibleTexts("#prompt")
                XCTAssertEqual(prompt, ["<i>Explain</i> lists"])
                let inert = try await browser.execute("""
                    return window.__injected === undefined && document.querySelectorAll('#app img, #app i, #app b').length === 0
                        && document.querySelectorAll('script').length === 2
                    """)
                XCTAssertEqual(inert as? Bool, true)
                let fragment = try await browser.execute("return location.hash")
                XCTAssertEqual(fragment as? String, "", "the token leaves the address bar")

                // First completion rank 2, second rank 2 (a tie), third ranked 1 and then flagged, which takes it out of
                // the ranking; Enter submits.
                try await browser.press(["2", "2", "1", "f", "\u{E007}"])
                try await browser.wait(until: "return document.getElementById('app').dataset.state === 'done'")
                let saved = try await browser.execute("return document.getElementById('app').dataset.saved")
                XCTAssertEqual(saved as? String, "1")

                let item = try await database.store.snapshot(project: project).items[0]
                let stored = try await database.store.labeledItem(item.id, for: .labeler(labeler.id))
                let ids = item.completions.map { String($0.id) }
                XCTAssertEqual(stored.ranking, RankingSubmission(ranks: [ids[0]: 2, ids[1]: 2], flagged: [ids[2]]))

                // P reopens the answer for editing, filled in as it was saved.
                try await browser.press(["p"])
                try await browser.wait(until: "return document.getElementById('app').dataset.state === 'labeling'")
                let badges = try await browser.visibleTexts("#completions .rank")
                XCTAssertEqual(badges, ["2", "2", "–"])
                let flagged = try await browser.execute("return [...document.querySelectorAll('.completion.flagged')].map(e => e.dataset.id)")
                XCTAssertEqual(flagged as? [String], [ids[2]])
                let stillInert = try await browser.execute("return window.__injected === undefined")
                XCTAssertEqual(stillInert as? Bool, true)
            }
        } catch {
            await browser.quit()
            throw error
        }
        await browser.quit()
    }
}
