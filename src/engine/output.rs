//! Bounded capture of what a child process prints, whatever it prints.
//!
//! [`LineSplitter`] cuts a byte stream into lines of at most [`MAX_LINE_BYTES`] (the rest of an
//! over-long line is counted, not kept); [`OutputCapture`] keeps the first [`OUTPUT_HEAD_BYTES`]
//! and the last [`OUTPUT_TAIL_BYTES`] of those lines, whole, and counts exactly what it drops in
//! between; [`TextTail`] keeps only a tail (for stderr in error messages). Memory is bounded by
//! these constants, not by the output. No I/O here.

use std::collections::VecDeque;

/// Longest line kept; the rest of a longer line is dropped and counted.
pub const MAX_LINE_BYTES: usize = 8 * 1024;
/// Bytes of output kept from the start.
pub const OUTPUT_HEAD_BYTES: usize = 16 * 1024;
/// Bytes of output kept from the end.
pub const OUTPUT_TAIL_BYTES: usize = 48 * 1024;

/// One line as kept: its text (cut to [`MAX_LINE_BYTES`], with a note when cut) and how many
/// bytes it had in the stream, newline included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub stream_bytes: u64,
}

/// Splits a byte stream into [`Line`]s; never holds more than [`MAX_LINE_BYTES`] of one line.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
    /// Bytes of the current line beyond [`MAX_LINE_BYTES`].
    cut: u64,
}

impl LineSplitter {
    /// Feeds `chunk`; `emit` gets every line it completes.
    pub fn push(&mut self, chunk: &[u8], emit: &mut impl FnMut(Line)) {
        let mut rest = chunk;
        while let Some(newline) = rest.iter().position(|byte| *byte == b'\n') {
            self.append(&rest[..newline]);
            emit(self.take_line(1));
            rest = &rest[newline + 1..];
        }
        self.append(rest);
    }

    /// The last line when the stream did not end with a newline.
    pub fn finish(&mut self, emit: &mut impl FnMut(Line)) {
        if !self.partial.is_empty() || self.cut > 0 {
            emit(self.take_line(0));
        }
    }

    fn append(&mut self, bytes: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.partial.len());
        let kept = bytes.len().min(room);
        self.partial.extend_from_slice(&bytes[..kept]);
        self.cut += (bytes.len() - kept) as u64;
    }

    fn take_line(&mut self, newline_bytes: u64) -> Line {
        let stream_bytes = self.partial.len() as u64 + self.cut + newline_bytes;
        let mut raw = std::mem::take(&mut self.partial);
        if raw.last() == Some(&b'\r') && self.cut == 0 {
            raw.pop();
        }
        let mut text = String::from_utf8_lossy(&raw).into_owned();
        if self.cut > 0 {
            text.push_str(&format!(" [... {} bytes of this line cut]", self.cut));
        }
        self.cut = 0;
        Line { text, stream_bytes }
    }
}

/// The head and tail of a stream of lines, with an exact count of the lines and bytes dropped.
#[derive(Debug)]
pub struct OutputCapture {
    head: String,
    head_full: bool,
    tail: VecDeque<Line>,
    tail_bytes: usize,
    dropped_lines: u64,
    dropped_bytes: u64,
}

impl Default for OutputCapture {
    fn default() -> Self {
        Self::new()
    }
}

impl OutputCapture {
    pub fn new() -> Self {
        Self {
            head: String::new(),
            head_full: false,
            tail: VecDeque::new(),
            tail_bytes: 0,
            dropped_lines: 0,
            dropped_bytes: 0,
        }
    }

    pub fn push(&mut self, line: Line) {
        if !self.head_full {
            if self.head.len() + line.text.len() < OUTPUT_HEAD_BYTES {
                self.head.push_str(&line.text);
                self.head.push('\n');
                return;
            }
            self.head_full = true;
        }
        self.tail_bytes += line.text.len() + 1;
        self.tail.push_back(line);
        while self.tail_bytes > OUTPUT_TAIL_BYTES {
            let Some(dropped) = self.tail.pop_front() else { break };
            self.tail_bytes -= dropped.text.len() + 1;
            self.dropped_lines += 1;
            self.dropped_bytes += dropped.stream_bytes;
        }
    }

    /// Head, then `[... N lines (M bytes) dropped ...]` when anything was, then the tail.
    pub fn finish(self) -> String {
        let mut text = self.head;
        if self.dropped_lines > 0 {
            text.push_str(&format!("[... {} lines ({} bytes) dropped ...]\n", self.dropped_lines, self.dropped_bytes));
        }
        for line in self.tail {
            text.push_str(&line.text);
            text.push('\n');
        }
        text
    }
}

/// A bounded tail of text: keeps the last `limit` bytes and counts what it dropped.
#[derive(Debug, Clone)]
pub struct TextTail {
    text: String,
    limit: usize,
    dropped_bytes: u64,
}

impl TextTail {
    pub fn new(limit: usize) -> Self {
        Self { text: String::new(), limit, dropped_bytes: 0 }
    }

    pub fn push_line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
        if self.text.len() > self.limit.saturating_mul(2) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        if self.text.len() <= self.limit {
            return;
        }
        let mut cut = self.text.len() - self.limit;
        while !self.text.is_char_boundary(cut) {
            cut += 1;
        }
        self.text.drain(..cut);
        self.dropped_bytes += cut as u64;
    }

    /// The kept text, with a `[... N bytes dropped]` line first when anything was dropped.
    pub fn finish(mut self) -> String {
        self.trim();
        if self.dropped_bytes == 0 {
            self.text
        } else {
            format!("[... {} bytes dropped]\n{}", self.dropped_bytes, self.text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Line> {
        let mut lines = Vec::new();
        let mut splitter = LineSplitter::default();
        for chunk in chunks {
            splitter.push(chunk, &mut |line| lines.push(line));
        }
        splitter.finish(&mut |line| lines.push(line));
        lines
    }

    #[test]
    fn lines_are_split_across_chunks_and_crlf_is_trimmed() {
        let lines = split(&[b"ab", b"c\r\nde", b"f\n", b"tail"]);
        let texts: Vec<&str> = lines.iter().map(|line| line.text.as_str()).collect();
        assert_eq!(texts, ["abc", "def", "tail"]);
        assert_eq!(lines.iter().map(|line| line.stream_bytes).sum::<u64>(), 13);
    }

    #[test]
    fn an_endless_line_is_cut_and_counted() {
        let long = vec![b'x'; MAX_LINE_BYTES * 3 + 5];
        let lines = split(&[&long[..], b"\nnext\n"]);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].text.starts_with(&"x".repeat(MAX_LINE_BYTES)));
        assert!(lines[0].text.ends_with(&format!(" [... {} bytes of this line cut]", MAX_LINE_BYTES * 2 + 5)));
        assert_eq!(lines[0].stream_bytes, long.len() as u64 + 1);
        assert_eq!(lines[1].text, "next");
    }

    #[test]
    fn the_capture_keeps_head_and_tail_and_counts_exactly_what_it_drops() {
        let mut capture = OutputCapture::new();
        let mut splitter = LineSplitter::default();
        let total = 200_000_u64;
        let text: String = (1..=total).map(|n| format!("{n}\n")).collect();
        splitter.push(text.as_bytes(), &mut |line| capture.push(line));
        let kept = capture.finish();
        assert!(kept.starts_with("1\n2\n3\n"));
        assert!(kept.ends_with("199999\n200000\n"), "{}", &kept[kept.len() - 40..]);
        let marker = kept.lines().find(|line| line.starts_with("[... ")).expect("a drop marker");
        let kept_lines = kept.lines().count() as u64 - 1;
        let dropped_lines: u64 = marker[5..].split(' ').next().unwrap().parse().unwrap();
        assert_eq!(kept_lines + dropped_lines, total);
        let kept_bytes = kept.len() - marker.len() - 1;
        let dropped_bytes: usize = marker.split('(').nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        assert_eq!(kept_bytes + dropped_bytes, text.len());
        assert!(kept.len() < OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES + 100);
    }

    #[test]
    fn text_tail_cuts_on_a_char_boundary() {
        let mut tail = TextTail::new(5);
        tail.push_line("ééééé");
        let text = tail.finish();
        assert!(text.starts_with("[... "));
        assert!(text.ends_with("é\n"));
    }
}
