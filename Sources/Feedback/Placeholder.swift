/// Placeholder until the feedback store lands.
enum FeedbackPlaceholder {}
