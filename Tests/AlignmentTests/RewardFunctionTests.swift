@testable import Alignment
import XCTest

/// The built-in rules of `--reward-fn`.
final class RewardFunctionTests: XCTestCase {
    private func input(_ completion: String, ids: Int = 0, answers: Any? = nil) -> RewardInput {
        RewardInput(prompt: "p", completion: completion, completionIDs: Array(repeating: 1, count: ids), promptIDs: [1],
                    row: answers.map { ["prompt": "p", "answers": $0] } ?? ["prompt": "p"])
    }

    func testContainsCountsWholeNumbersAndWordsOnly() throws {
        let contains = try BuiltinReward("contains")
        let scores = try contains.rewards([
            input(" 7-5 is 2 and 4-1 is 3.", answers: ["2", "3"]),
            input(" 2-0 and 3-0?", answers: ["2", "3"]),            // the question restated states no result
            input(" 12 and 1.3", answers: ["2", "3"]),               // inside other numbers
            input(" It is -3, and 2.", answers: ["3", 2]),           // -3 is not 3; numbers may be JSON numbers
            input(" Paris, of course", answers: ["paris", "Lyon"]),  // words, case-insensitively
            input(" no answers column"),
        ])
        XCTAssertEqual(scores, [1, 0, 0, 0.5, 0.5, nil])
        XCTAssertThrowsError(try contains.rewards([input("x", answers: "2")]))
    }

    func testRegexAndLength() throws {
        XCTAssertEqual(try BuiltinReward("regex:^ Sure").rewards([input(" Sure! 3"), input(" No")]), [1, 0])
        XCTAssertEqual(try BuiltinReward("length:4").rewards([input("", ids: 4), input("", ids: 6), input("", ids: 12)]), [1, 0.5, 0])
        for bad in ["length:0", "regex:(", "regex:", "bogus", "contains:x"] {
            XCTAssertThrowsError(try BuiltinReward(bad), bad)
        }
    }
}
