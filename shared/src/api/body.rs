use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use futures::stream::BoxStream;
use http_body::{Frame, SizeHint};

/// A response body: whole, or streamed chunk by chunk (the access report), so a large answer
/// never sits in memory. It implements `http_body::Body`, which both the local server and
/// lambda_http's streaming runtime take.
pub enum Body {
    Full(Bytes),
    Stream(BoxStream<'static, Result<Bytes, std::io::Error>>),
}

impl Body {
    pub fn empty() -> Self {
        Body::Full(Bytes::new())
    }

    /// The whole body, for tests and for runtimes that buffer.
    pub async fn collect(self) -> Result<Bytes, std::io::Error> {
        use futures::TryStreamExt;
        match self {
            Body::Full(bytes) => Ok(bytes),
            Body::Stream(stream) => {
                let chunks: Vec<Bytes> = stream.try_collect().await?;
                Ok(chunks.concat().into())
            }
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body::Full(bytes)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::Full(text.into())
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Full(bytes) if bytes.is_empty() => Poll::Ready(None),
            Body::Full(bytes) => Poll::Ready(Some(Ok(Frame::data(std::mem::take(bytes))))),
            Body::Stream(stream) => Pin::new(stream)
                .poll_next(cx)
                .map(|chunk| chunk.map(|c| c.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(bytes) if bytes.is_empty())
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}
