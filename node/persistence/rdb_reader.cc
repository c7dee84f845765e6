// RDB reader (skeleton until the reader lands).
