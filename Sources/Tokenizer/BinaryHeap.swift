/// An element of a `BinaryHeap`, ordered by what comes out first.
protocol HeapOrdered {
    /// Whether `self` leaves the heap before `other`.
    func precedes(_ other: Self) -> Bool
}

/// A binary heap: `pop` returns the element that precedes all others.
struct BinaryHeap<Element: HeapOrdered> {
    private var elements: [Element] = []

    mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child].precedes(elements[parent]) else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard let top = elements.first else { return nil }
        let last = elements.removeLast()
        if elements.isEmpty { return top }
        elements[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < elements.count, elements[left].precedes(elements[first]) { first = left }
            if right < elements.count, elements[right].precedes(elements[first]) { first = right }
            if first == parent { break }
            elements.swapAt(parent, first)
            parent = first
        }
        return top
    }
}
