//! Several requests at once under one deadline: each part's result, or that it ran out of
//! time. Parts run concurrently on the current task, so the total is the slowest part.

use std::future::Future;

use futures_util::future::join_all;
use tokio::time::Instant;

#[derive(Debug)]
pub enum PartOutcome<T> {
    Done(T),
    TimedOut,
}

impl<T> PartOutcome<T> {
    pub fn done(self) -> Option<T> {
        match self {
            PartOutcome::Done(v) => Some(v),
            PartOutcome::TimedOut => None,
        }
    }
}

pub async fn fan_out<T, F>(deadline: Instant, parts: Vec<F>) -> Vec<PartOutcome<T>>
where
    F: Future<Output = T>,
{
    join_all(parts.into_iter().map(|part| async move {
        match tokio::time::timeout_at(deadline, part).await {
            Ok(v) => PartOutcome::Done(v),
            Err(_) => PartOutcome::TimedOut,
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn parts_run_together_and_late_ones_time_out() {
        let start = Instant::now();
        let parts: Vec<std::pin::Pin<Box<dyn Future<Output = u32>>>> = vec![
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                1
            }),
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                2
            }),
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                3
            }),
        ];
        let out = fan_out(start + Duration::from_secs(1), parts).await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        let done: Vec<Option<u32>> = out.into_iter().map(PartOutcome::done).collect();
        assert_eq!(done, vec![Some(1), Some(2), None]);
    }
}
