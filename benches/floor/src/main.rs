//! Usage: medee-floor SELECTOR URL...
//! Fetches the URLs (8 at a time, as medee does by default), parses each page
//! and prints the total number of elements SELECTOR matches.

use std::sync::Arc;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let selector = args.next().expect("a selector");
    let urls: Vec<String> = args.collect();
    let client = reqwest::Client::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    for url in urls {
        let (client, limit, selector) = (client.clone(), Arc::clone(&limit), selector.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore");
            let body = client
                .get(&url)
                .send()
                .await
                .expect("fetch")
                .bytes()
                .await
                .expect("body");
            let text = String::from_utf8_lossy(&body).into_owned();
            tokio::task::spawn_blocking(move || {
                let document = scraper::Html::parse_document(&text);
                let selector = scraper::Selector::parse(&selector).expect("selector");
                document.select(&selector).count()
            })
            .await
            .expect("parse")
        });
    }
    let mut total = 0;
    while let Some(count) = tasks.join_next().await {
        total += count.expect("task");
    }
    println!("{total}");
}
