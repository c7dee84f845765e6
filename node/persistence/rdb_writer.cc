// RDB writer (skeleton until the writer lands).
