//! Prices and billing rules, rendered from the same table the code charges with.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{
    credits::{credits_text, usd_suffix},
    signed_in::SignedIn,
};
use crate::rules::pricing::{
    format_credits, format_credits_exact, motion_cost, Orientation, Quality, ELEMENT_MICRO_CREDITS,
};

/// The price table; signed-in members only.
#[component]
pub fn PricingPage() -> impl IntoView {
    view! {
        <Title text="Pricing · Kinema" />
        <SignedIn children=|_user| view! { <Pricing /> } />
    }
}

#[component]
fn Pricing() -> impl IntoView {
    let per_second = |quality: Quality| format_credits_exact(quality.micro_credits_per_second());
    let example = |quality: Quality| credits_text(motion_cost(quality, Orientation::Video, 8_000));
    view! {
        <section class="card">
            <h1>"Pricing"</h1>
            <table>
                <thead>
                    <tr>
                        <th>"What"</th>
                        <th>"Price"</th>
                        <th>"Example"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        <td>"Motion Control, 720p"</td>
                        <td>
                            {format!("{} credits per output second", per_second(Quality::P720))}
                        </td>
                        <td>{format!("8 s: {}", example(Quality::P720))}</td>
                    </tr>
                    <tr>
                        <td>"Motion Control, 1080p"</td>
                        <td>
                            {format!("{} credits per output second", per_second(Quality::P1080))}
                        </td>
                        <td>{format!("8 s: {}", example(Quality::P1080))}</td>
                    </tr>
                    <tr>
                        <td>"Custom element"</td>
                        <td>
                            {format!(
                                "{} credit per element",
                                format_credits(ELEMENT_MICRO_CREDITS),
                            )}
                        </td>
                        <td>{usd_suffix(ELEMENT_MICRO_CREDITS).trim().to_string()}</td>
                    </tr>
                </tbody>
            </table>
            <h2>"How billing works"</h2>
            <ul>
                <li>
                    "Motion Control is billed per second of output, rounded to the nearest second. The output follows the motion video and is capped at 10 s with \"Match image\" and 30 s with \"Match video\"."
                </li>
                <li>
                    "The cost is held when you press Generate and settled when the task finishes, on the output length EvoLink reports."
                </li>
                <li>
                    "A failed or timed-out task costs nothing: what was held is returned in full."
                </li>
                <li>
                    "Creating a custom element costs 1 credit; a failed creation is refunded in full."
                </li>
            </ul>
        </section>
    }
}
